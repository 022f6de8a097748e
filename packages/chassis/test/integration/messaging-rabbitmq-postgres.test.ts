import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startTestService } from '../../src/testing/index.js';
import { describeMessagingBehaviour, type PlainMessage, unique } from '../support/messaging-behaviour.js';
import { waitFor } from '../support/wait.js';

const backends = () => ({ db: { url: inject('postgresUrl') }, messaging: { url: inject('amqpUrl') } });

/**
 * A producer outside Keelson: plain amqplib, only the properties it sets. `mandatory`, published
 * again while the broker returns it: the consumer's queue is declared once the service connected.
 */
async function publishPlain(message: PlainMessage): Promise<void> {
  const connection = await amqp.connect(inject('amqpUrl'));
  try {
    const channel = await connection.createConfirmChannel();
    let returned = false;
    channel.on('return', () => {
      returned = true;
    });
    for (let tries = 0; tries < 100; tries++) {
      returned = false;
      channel.publish('keelson.events', message.topic, message.body, {
        mandatory: true,
        ...(message.messageId !== undefined ? { messageId: message.messageId } : {}),
        ...(message.contentType !== undefined ? { contentType: message.contentType } : {}),
        ...(message.headers ? { headers: message.headers } : {}),
      });
      await channel.waitForConfirms();
      if (!returned) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no queue bound for ${message.topic} within 5 s`);
  } finally {
    await connection.close();
  }
}

describeMessagingBehaviour({ name: 'PostgreSQL + RabbitMQ', overrides: backends, publishPlain });

describe('consumers on RabbitMQ', () => {
  it('consume again when the broker cancels them (their queue deleted)', async () => {
    const topic = unique('catalog.updated');
    const received: unknown[] = [];
    const { service } = await startTestService({
      name: 'catalog',
      overrides: backends(),
      setup: (s) => s.messaging.consume(topic, (message) => void received.push(message.payload)),
    });
    try {
      await service.messaging.publish({ topic, payload: { n: 1 } });
      await waitFor(
        'first',
        async () => received.length,
        (n) => n === 1,
        5000,
      );
      const admin = await amqp.connect(inject('amqpUrl'));
      const channel = await admin.createChannel();
      await channel.deleteQueue(service.messaging.queues[0] as string);
      await admin.close();
      // The queue is declared and bound again by the consumer itself.
      await waitFor(
        'consuming again',
        async () =>
          service.messaging.publish({ topic, payload: { n: 2 } }).then(
            () => true,
            () => false,
          ),
        Boolean,
        10_000,
      );
      await waitFor(
        'second',
        async () => received.length,
        (n) => n >= 2,
        5000,
      );
      expect(received.at(-1)).toEqual({ n: 2 });
    } finally {
      await service.stop();
    }
  });
});

describe("outbox with the application's own pg client", () => {
  it('joins a transaction opened on a pg.Client, and publishes only after its COMMIT', async () => {
    const topic = unique('audit.recorded');
    const received: unknown[] = [];
    const { service } = await startTestService({
      name: 'audit',
      overrides: backends(),
      setup: (s) => s.messaging.consume(topic, (message) => void received.push(message.payload)),
    });
    const client = new pg.Client({ connectionString: inject('postgresUrl') });
    await client.connect();
    try {
      await client.query('begin');
      await service.outbox.enqueueAll(client, [
        { topic, key: 'a', payload: { n: 1 } },
        { topic, key: 'a', payload: { n: 2 } },
      ]);
      // Not committed yet: nothing may be published.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(received).toEqual([]);
      await client.query('commit');
      await waitFor(
        'both',
        async () => received.length,
        (n) => n === 2,
        5000,
      );
      expect(received).toEqual([{ n: 1 }, { n: 2 }]);
    } finally {
      await client.end();
      await service.stop();
    }
  });
});

describe('outbox relays of two instances on one database', () => {
  const running: { stop(): Promise<boolean> }[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });

  it('keep the order of every key while sharing the work', async () => {
    const topic = unique('ledger.entry');
    const seen = new Map<string, number[]>();
    const relayUrls: string[] = [];
    const consumer = await startTestService({
      name: 'ledger',
      overrides: { ...backends(), outbox: { relay: { enabled: false } } },
      setup: (s) =>
        s.messaging.consume(topic, (message) => {
          const { key, n } = message.payload as { key: string; n: number };
          seen.set(key, [...(seen.get(key) ?? []), n]);
        }),
    });
    running.push(consumer.service);
    // Two relays, small batches, so that both claim rows of every key.
    for (const name of ['relay-a', 'relay-b']) {
      const relay = await startTestService({
        name,
        overrides: { ...backends(), outbox: { relay: { batchSize: 7, pollMs: 20 } } },
      });
      running.push(relay.service);
      relayUrls.push(relay.url);
    }
    const keys = Array.from({ length: 12 }, (_, i) => `account-${i}-${randomUUID().slice(0, 4)}`);
    const perKey = 30;
    for (let n = 0; n < perKey; n++) {
      await consumer.service.db.transaction(async (tx) => {
        for (const key of keys)
          await consumer.service.outbox.enqueue(tx, { topic, key, payload: { key, n } });
      });
    }
    await waitFor(
      'every message',
      async () => [...seen.values()].reduce((sum, list) => sum + list.length, 0),
      (total) => total >= keys.length * perKey,
      30_000,
    );
    for (const key of keys) expect(seen.get(key)).toEqual(Array.from({ length: perKey }, (_, n) => n));
    // A batch is marked sent after its confirms: the last one may still be committing.
    await waitFor(
      'every row marked sent',
      async () =>
        (
          await consumer.service.db.query<{ pending: string }>(
            'select count(*) as pending from keelson_outbox where topic = $1 and published_at is null',
            [topic],
          )
        ).rows[0]?.pending,
      (pending) => Number(pending) === 0,
      10_000,
    );
    // Both relays took part.
    for (const url of relayUrls) {
      const text = await fetch(`${url}/metrics`).then((r) => r.text());
      const published = new RegExp(
        `^outbox_published_total\\{topic="${topic.replaceAll('.', '\\.')}"\\} (\\d+)$`,
        'm',
      ).exec(text);
      expect(Number(published?.[1] ?? 0)).toBeGreaterThan(0);
    }
  }, 60_000);
});
