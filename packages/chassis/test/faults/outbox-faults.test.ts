import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startServer, stopServer } from '../../../../scripts/infra.mjs';
import { startTestService } from '../../src/testing/index.js';
import { spawnFixture } from '../support/child-service.js';
import { unique } from '../support/messaging-behaviour.js';
import { waitFor } from '../support/wait.js';

const messaging = {
  url: inject('amqpUrl'),
  reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
  // Enough attempts to outlast a server restart: the handler fails while PostgreSQL is down.
  retry: { maxAttempts: 100, delaysMs: [200, 500, 1000] },
};
const backends = () => ({ db: { url: inject('postgresUrl') }, messaging });

class Rollback extends Error {}

/**
 * One fault scenario's bookkeeping: which message ids were committed, rolled back or left in doubt
 * (the connection broke around COMMIT), every delivery the consumer saw, and the consumer's side
 * effects (rows written in the handler's transaction).
 */
async function scenario(running: { stop(): Promise<boolean> }[]) {
  const topic = unique('billing.charge');
  const effects = `effects_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: inject('postgresUrl') });
  await admin.connect();
  await admin.query(`create table ${effects} (message_id text not null)`);
  await admin.end();

  const committed = new Set<string>();
  const rolledBack = new Set<string>();
  const inDoubt = new Set<string>();
  /** Ids of the messages whose handler ran (duplicates stop at the inbox). */
  const deliveries: string[] = [];
  const consumer = await startTestService({
    name: 'billing',
    overrides: { ...backends(), outbox: { relay: { enabled: false } } },
    setup: (s) =>
      s.messaging.consume(
        topic,
        async (message, { tx }) => {
          deliveries.push(message.id);
          await tx?.query(`insert into ${effects} (message_id) values ($1)`, [message.id]);
        },
        { idempotent: true, prefetch: 50 },
      ),
  });
  running.push(consumer.service);

  /** Commits `transactions` × `perTransaction` messages; every `rollbackEvery`-th transaction rolls back. */
  const produce = async (transactions: number, perTransaction: number, pauseMs = 0, rollbackEvery = 5) => {
    for (let t = 0; t < transactions; t++) {
      const ids: string[] = [];
      try {
        await consumer.service.db.transaction(async (tx) => {
          for (let m = 0; m < perTransaction; m++)
            ids.push(await consumer.service.outbox.enqueue(tx, { topic, payload: { t, m } }));
          if (t % rollbackEvery === rollbackEvery - 1) throw new Rollback();
        });
        for (const id of ids) committed.add(id);
      } catch (error) {
        for (const id of ids) (error instanceof Rollback ? rolledBack : inDoubt).add(id);
      }
      if (pauseMs) await delay(pauseMs);
    }
  };

  /** Deliveries the consumer settled: handled, or duplicates stopped by the inbox. */
  const handled = async () => {
    const metrics = await fetch(`${consumer.url}/metrics`).then((r) => r.text());
    const count = (outcome: string) =>
      Number(
        new RegExp(`^messaging_consumer_handled_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)$`, 'm').exec(
          metrics,
        )?.[1] ?? 0,
      );
    return { ok: count('ok'), duplicate: count('duplicate') };
  };

  /**
   * Waits until every committed message arrived and the outbox and the queue are drained, then
   * checks: no rolled-back message arrived, and each side effect happened exactly once.
   */
  const verify = async () => {
    await waitFor(
      'every committed message',
      async () => [...committed].filter((id) => !deliveries.includes(id)).length,
      (missing) => missing === 0,
      90_000,
    );
    await waitFor('outbox drained', pending, (n) => n === 0, 60_000);
    // Copies published twice may still be on their way: wait until the consumer is idle.
    let previous = -1;
    for (let i = 0; i < 100; i++) {
      const { ok, duplicate } = await handled();
      if (ok + duplicate === previous) break;
      previous = ok + duplicate;
      await delay(500);
    }
    expect(deliveries.filter((id) => rolledBack.has(id))).toEqual([]);
    const { rows } = await consumer.service.db.query<{ message_id: string; n: string }>(
      `select message_id, count(*) as n from ${effects} group by message_id`,
    );
    const counts = new Map(rows.map((r) => [r.message_id, Number(r.n)]));
    expect([...committed].filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    await consumer.service.db.query(`drop table ${effects}`);
    return { duplicates: (await handled()).duplicate };
  };

  const pending = async () => {
    const { rows } = await consumer.service.db.query<{ n: string }>(
      'select count(*) as n from keelson_outbox where topic = $1 and published_at is null',
      [topic],
    );
    return Number(rows[0]?.n);
  };

  return { topic, committed, rolledBack, inDoubt, deliveries, produce, pending, verify };
}

describe('outbox and consumers under faults (real PostgreSQL and RabbitMQ)', () => {
  const running: { stop(): Promise<boolean> }[] = [];
  afterEach(async () => {
    await startServer('rabbitmq');
    await startServer('postgres');
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });

  it('the relay process is killed with SIGKILL in the middle of a batch', async () => {
    const s = await scenario(running);
    await s.produce(150, 20);
    const env = {
      DB_URL: inject('postgresUrl'),
      MESSAGING_URL: inject('amqpUrl'),
      REGISTRY_BACKEND: 'none',
      // One batch holds every row: a kill after the first deliveries is inside it, before its commit.
      OUTBOX_RELAY_BATCH_SIZE: '5000',
    };
    const first = await spawnFixture('outbox-relay-service.ts', env);
    await waitFor(
      'first deliveries',
      async () => s.deliveries.length,
      (n) => n >= 1,
      30_000,
    );
    first.child.kill('SIGKILL');
    await first.exit;
    // Killed inside the batch: messages went out, yet no row was marked sent.
    expect(await s.pending()).toBe(s.committed.size);

    const second = await spawnFixture('outbox-relay-service.ts', env);
    try {
      const { duplicates } = await s.verify();
      // The killed batch was never marked sent: its published rows went out again, and the inbox
      // kept them from the handler.
      expect(duplicates).toBeGreaterThan(0);
    } finally {
      second.child.kill('SIGTERM');
      await second.exit;
    }
  });

  it('RabbitMQ is stopped and started while messages are being produced', async () => {
    const s = await scenario(running);
    const relay = await startTestService({
      name: 'relay',
      overrides: { ...backends(), outbox: { relay: { pollMs: 200 } } },
    });
    running.push(relay.service);
    const producing = s.produce(60, 10, 50);
    await delay(600);
    await stopServer('rabbitmq');
    await delay(1500);
    await startServer('rabbitmq');
    await producing;
    await s.verify();
    expect(s.committed.size).toBe(480);
  });

  it('PostgreSQL is restarted under load', async () => {
    const s = await scenario(running);
    const relay = await startTestService({
      name: 'relay',
      overrides: { ...backends(), outbox: { relay: { pollMs: 200 } } },
    });
    running.push(relay.service);
    const producing = s.produce(80, 10, 40);
    await delay(800);
    await stopServer('postgres');
    await delay(1000);
    await startServer('postgres');
    await producing;
    expect(s.committed.size).toBeGreaterThan(100);
    await s.verify();
  });
});
