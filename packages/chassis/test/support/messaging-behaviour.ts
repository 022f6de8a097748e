import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADERS, type IncomingMessage, UnroutableError } from '../../src/index.js';
import { startTestService } from '../../src/testing/index.js';
import { waitFor } from './wait.js';

/** A message as a producer outside Keelson sends it: only what it sets is on it. */
export interface PlainMessage {
  topic: string;
  body: Buffer;
  messageId?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** The database and broker a suite runs on: real servers, or the embedded defaults. */
export interface MessagingBackends {
  name: string;
  /** `db.*` and `messaging.*` overrides. */
  overrides(): { db: Record<string, unknown>; messaging: Record<string, unknown> };
  /** Publishes to the default exchange as a plain producer (amqplib, or the in-process broker itself). */
  publishPlain(message: PlainMessage): Promise<void>;
}

/** The value of one series in a Prometheus text exposition, 0 when it is absent. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const found = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

const FAST_RETRY = { maxAttempts: 3, delaysMs: [50, 100] };
export const unique = (prefix: string) => `${prefix}.${randomUUID().slice(0, 8)}`;

/**
 * What a user sees of messaging and the outbox, whatever the backends: the same tests run on
 * PostgreSQL + RabbitMQ and on PGlite + the in-process transport.
 */
export function describeMessagingBehaviour(backends: MessagingBackends): void {
  describe(`messaging and outbox: ${backends.name}`, () => {
    const running: { stop(): Promise<boolean> }[] = [];
    afterEach(async () => {
      await Promise.all(running.splice(0).map((s) => s.stop()));
    });
    const start = async (
      setup: Parameters<typeof startTestService>[0] extends infer O
        ? O extends { setup?: infer F }
          ? F
          : never
        : never,
      extra: Record<string, unknown> = {},
    ) => {
      const { db, messaging } = backends.overrides();
      const started = await startTestService({
        name: 'orders',
        overrides: {
          db,
          messaging: { retry: FAST_RETRY, ...messaging },
          outbox: { relay: { pollMs: 60_000 } },
          ...extra,
        },
        setup,
      });
      running.push(started.service);
      return started;
    };

    it('delivers a published message with its envelope, continuing the producer trace', async () => {
      const topic = unique('orders.created');
      const received: IncomingMessage[] = [];
      const traceIds: string[] = [];
      const { service } = await start((s) =>
        s.messaging.consume(topic, (message) => {
          received.push(message);
          traceIds.push(trace.getActiveSpan()?.spanContext().traceId ?? '');
        }),
      );
      const before = Date.now();
      const producerTrace = await service.tracing.tracer.startActiveSpan('checkout', async (span) => {
        await service.messaging.publish({
          topic,
          key: 'order-1',
          payload: { id: 1, total: 9.5 },
          headers: { tenant: 't1' },
        });
        span.end();
        return span.spanContext().traceId;
      });
      const after = Date.now();
      await waitFor(
        'delivery',
        async () => received.length,
        (n) => n === 1,
        5000,
      );
      const [message] = received;
      expect(message).toMatchObject({
        topic,
        key: 'order-1',
        payload: { id: 1, total: 9.5 },
        source: 'orders',
        attempt: 1,
        redelivered: false,
      });
      expect(message?.id).toMatch(/^[0-9a-f-]{36}$/);
      // The producer's headers and the trace context, nothing the transport keeps for itself.
      expect(Object.keys(message?.headers ?? {}).sort()).toEqual(['tenant', 'traceparent']);
      expect(message?.headers.tenant).toBe('t1');
      expect(message?.headers.traceparent).toContain(producerTrace);
      // Milliseconds, not whole seconds: stamped between the calls around the publish.
      expect(message?.timestamp.getTime()).toBeGreaterThanOrEqual(before);
      expect(message?.timestamp.getTime()).toBeLessThanOrEqual(after);
      expect(traceIds).toEqual([producerTrace]);
    });

    it('rejects a publish no queue is bound for', async () => {
      const { service } = await start(() => {});
      await expect(
        service.messaging.publish({ topic: unique('nobody.listens'), payload: {} }),
      ).rejects.toBeInstanceOf(UnroutableError);
    });

    it('retries a failing handler with growing delays, then succeeds', async () => {
      const topic = unique('stock.reserve');
      const attempts: number[] = [];
      const { service } = await start((s) =>
        s.messaging.consume(topic, (message) => {
          attempts.push(message.attempt);
          if (message.attempt < 3) throw new Error('inventory busy');
        }),
      );
      await service.messaging.publish({ topic, payload: { sku: 'a' } });
      await waitFor(
        'third attempt',
        async () => attempts.length,
        (n) => n === 3,
        10_000,
      );
      expect(attempts).toEqual([1, 2, 3]);
    });

    it('dead-letters after the last attempt with the reason, and redrives on request', async () => {
      const topic = unique('payment.capture');
      let healthy = false;
      const seen: number[] = [];
      const { service } = await start((s) =>
        s.messaging.consume(topic, (message) => {
          seen.push(message.attempt);
          if (!healthy) throw new TypeError('card declined');
        }),
      );
      const queue = service.messaging.queues[0] as string;
      await service.messaging.publish({ topic, payload: { amount: 5 } });
      await waitFor(
        'three attempts',
        async () => seen.length,
        (n) => n === 3,
        10_000,
      );
      const dead = await waitFor(
        'dead letter',
        () => service.messaging.deadLetters(queue),
        (d) => d.length === 1,
        5000,
      );
      expect(dead.value[0]?.headers).toMatchObject({
        [DEAD_LETTER_HEADERS.error]: 'TypeError: card declined',
        [DEAD_LETTER_HEADERS.attempts]: '3',
        [DEAD_LETTER_HEADERS.topic]: topic,
        [DEAD_LETTER_HEADERS.queue]: queue,
      });

      healthy = true;
      expect(await service.messaging.redrive(queue)).toBe(1);
      await waitFor(
        'handled after redrive',
        async () => seen.length,
        (n) => n === 4,
        5000,
      );
      expect(seen[3]).toBe(1);
      expect(await service.messaging.deadLetters(queue)).toEqual([]);
      // A queue that never had dead letters: nothing to read, nothing to move, no error.
      expect(await service.messaging.deadLetters(unique('never.declared'))).toEqual([]);
      expect(await service.messaging.redrive(unique('never.declared'))).toBe(0);
    });

    it('dead-letters a malformed payload at once', async () => {
      const topic = unique('orders.malformed');
      let calls = 0;
      const { service } = await start((s) => s.messaging.consume(topic, () => void calls++));
      const queue = service.messaging.queues[0] as string;
      await service.messaging.send({
        id: randomUUID(),
        topic,
        timestamp: Date.now(),
        source: 'test',
        contentType: 'application/json',
        headers: {},
        body: Buffer.from('{ not json'),
      });
      const dead = await waitFor(
        'dead letter',
        () => service.messaging.deadLetters(queue),
        (d) => d.length === 1,
        5000,
      );
      expect(dead.value[0]?.headers[DEAD_LETTER_HEADERS.error]).toMatch(/^malformed payload/);
      expect(calls).toBe(0);
    });

    it('decodes by one content-type rule and dead-letters at once what does not follow it', async () => {
      const topic = unique('catalog.imported');
      const received: { id: string; payload: unknown }[] = [];
      const { service } = await start((s) =>
        s.messaging.consume(
          topic,
          (message) => void received.push({ id: message.id, payload: message.payload }),
        ),
      );
      const queue = service.messaging.queues[0] as string;
      const cases: [string, string | undefined, Buffer][] = [
        ['json-without-type', undefined, Buffer.from('{"sku":"a"}')],
        ['bytes-without-type', undefined, Buffer.from('PK\x03\x04 not json')],
        ['json-with-charset', 'Application/JSON; charset=utf-8', Buffer.from('{"sku":"b"}')],
        ['cloudevent', 'application/cloudevents+json', Buffer.from('{"type":"c"}')],
        ['bad-json', 'application/json', Buffer.from('{ not json')],
        ['text', 'text/plain; charset=utf-8', Buffer.from('h\u00e9llo')],
        ['bad-text', 'text/plain', Buffer.from([0x68, 0xff, 0xfe])],
        ['bytes', 'application/octet-stream', Buffer.from([0, 1, 2, 255])],
      ];
      for (const [messageId, contentType, body] of cases)
        await backends.publishPlain({ topic, messageId, body, ...(contentType ? { contentType } : {}) });
      const dead = await waitFor(
        'undecodable ones dead-lettered',
        () => service.messaging.deadLetters(queue),
        (d) => d.length === 3,
        5000,
      );
      await waitFor(
        'the others handled',
        async () => received.length,
        (n) => n === 5,
        5000,
      );
      expect(Object.fromEntries(received.map((r) => [r.id, r.payload]))).toEqual({
        'json-without-type': { sku: 'a' },
        'json-with-charset': { sku: 'b' },
        cloudevent: { type: 'c' },
        text: 'h\u00e9llo',
        bytes: Buffer.from([0, 1, 2, 255]),
      });
      expect(
        Object.fromEntries(
          dead.value.map((m) => [m.id, m.headers[DEAD_LETTER_HEADERS.error]?.split(':')[0]]),
        ),
      ).toEqual({
        'bytes-without-type': 'malformed payload (no content type)',
        'bad-json': 'malformed payload (application/json)',
        'bad-text': 'malformed payload (text/plain)',
      });
    });

    it('never hands a handler the headers the transport or broker keep for themselves', async () => {
      const topic = unique('stock.counted');
      const seen: { attempt: number; headers: Record<string, string> }[] = [];
      await start((s) =>
        s.messaging.consume(topic, (message) => {
          seen.push({ attempt: message.attempt, headers: { ...message.headers } });
          // The retry goes through the broker (on RabbitMQ a retry queue, which adds x-death).
          if (message.attempt === 1) throw new Error('count later');
        }),
      );
      await backends.publishPlain({
        topic,
        messageId: randomUUID(),
        contentType: 'application/json',
        body: Buffer.from('{}'),
        headers: { tenant: 't1', 'x-keelson-publish': '7', 'x-death': 'forged' },
      });
      await waitFor(
        'second attempt',
        async () => seen.length,
        (n) => n === 2,
        5000,
      );
      expect(seen).toEqual([
        { attempt: 1, headers: { tenant: 't1' } },
        { attempt: 2, headers: { tenant: 't1' } },
      ]);
    });

    it('keeps the millisecond timestamp through a delayed retry', async () => {
      const topic = unique('stock.timed');
      const stamps: number[] = [];
      const { service } = await start((s) =>
        s.messaging.consume(topic, (message) => {
          stamps.push(message.timestamp.getTime());
          if (message.attempt === 1) throw new Error('later');
        }),
      );
      const before = Date.now();
      await service.messaging.publish({ topic, payload: {} });
      const after = Date.now();
      await waitFor(
        'second attempt',
        async () => stamps.length,
        (n) => n === 2,
        5000,
      );
      expect(stamps[0]).toBeGreaterThanOrEqual(before);
      expect(stamps[0]).toBeLessThanOrEqual(after);
      expect(stamps[1]).toBe(stamps[0]);
    });

    it('idempotent consumer: messages without an id are dead-lettered by default, never taken for duplicates', async () => {
      const topic = unique('invoice.external');
      let runs = 0;
      const { service, url, logs } = await start((s) =>
        s.messaging.consume(topic, () => void runs++, { idempotent: true }),
      );
      const queue = service.messaging.queues[0] as string;
      for (const n of [1, 2, 3])
        await backends.publishPlain({
          topic,
          contentType: 'application/json',
          body: Buffer.from(`{"n":${n}}`),
        });
      const dead = await waitFor(
        'all three dead-lettered',
        () => service.messaging.deadLetters(queue),
        (d) => d.length === 3,
        5000,
      );
      expect(dead.value.map((m) => JSON.parse(m.body.toString()))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect(dead.value.map((m) => m.headers[DEAD_LETTER_HEADERS.error])).toEqual([
        'no message id',
        'no message id',
        'no message id',
      ]);
      expect(runs).toBe(0);
      const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
      expect(
        metricValue(metrics, 'messaging_consumer_failed_total', { queue, reason: 'no-message-id' }),
      ).toBe(3);
      expect(metricValue(metrics, 'messaging_consumer_handled_total', { queue, outcome: 'duplicate' })).toBe(
        0,
      );
      // Logged at a bounded rate: one line for the three, naming the queue.
      expect(logs.find('message without a message id')).toMatchObject([
        { level: 'warn', queue, topic, withoutMessageId: 'dead-letter', messages: 1 },
      ]);
      const stored = await service.db.query<{ n: string }>(
        'select count(*) as n from keelson_inbox where consumer = $1',
        [queue],
      );
      expect(Number(stored.rows[0]?.n)).toBe(0);
    }, 60_000);

    it('idempotent consumer with withoutMessageId "handle": runs each message without an id, still dedupes the others', async () => {
      const topic = unique('invoice.loose');
      const table = `loose_${randomUUID().slice(0, 8)}`;
      const payloads: unknown[] = [];
      const { service, url, logs } = await start((s) =>
        s.messaging.consume(
          topic,
          async (message, { tx }) => {
            payloads.push(message.payload);
            await tx?.query(`insert into ${table} (n) values ($1)`, [(message.payload as { n: number }).n]);
          },
          { idempotent: true, withoutMessageId: 'handle', prefetch: 1 },
        ),
      );
      await service.db.query(`create table ${table} (n int not null)`);
      const queue = service.messaging.queues[0] as string;
      for (const n of [1, 2, 3])
        await backends.publishPlain({
          topic,
          contentType: 'application/json',
          body: Buffer.from(`{"n":${n}}`),
        });
      const id = randomUUID();
      for (const n of [4, 4])
        await backends.publishPlain({ topic, messageId: id, body: Buffer.from(`{"n":${n}}`) });
      const last = randomUUID();
      await backends.publishPlain({ topic, messageId: last, body: Buffer.from('{"n":5}') });
      await waitFor(
        'the last one handled',
        async () => payloads.length,
        (n) => n === 5,
        5000,
      );
      expect(payloads).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
      // Written through the transaction the handler received (committed just after the handler ran).
      const { value: written } = await waitFor(
        'the last one committed',
        async () => (await service.db.query<{ n: number }>(`select n from ${table} order by n`)).rows,
        (rows) => rows.length === 5,
        5000,
      );
      expect(written.map((r) => r.n)).toEqual([1, 2, 3, 4, 5]);
      const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
      expect(
        metricValue(metrics, 'messaging_consumer_handled_total', { queue, outcome: 'no-message-id' }),
      ).toBe(3);
      expect(metricValue(metrics, 'messaging_consumer_handled_total', { queue, outcome: 'duplicate' })).toBe(
        1,
      );
      expect(metricValue(metrics, 'messaging_consumer_handled_total', { queue, outcome: 'ok' })).toBe(2);
      expect(logs.find('message without a message id')).toMatchObject([
        { level: 'warn', queue, withoutMessageId: 'handle', messages: 1 },
      ]);
      const stored = await service.db.query<{ message_id: string }>(
        'select message_id from keelson_inbox where consumer = $1 order by message_id',
        [queue],
      );
      // Only the messages with an id were recorded; never an empty key.
      expect(stored.rows.map((r) => r.message_id)).toEqual([id, last].sort());
      expect(await service.messaging.deadLetters(queue)).toEqual([]);
      await service.db.query(`drop table ${table}`);
    }, 60_000);

    it('outbox: committed messages arrive, woken by NOTIFY; rolled-back ones never do', async () => {
      const topic = unique('orders.placed');
      const received: string[] = [];
      const { service } = await start((s) =>
        s.messaging.consume(topic, (message) => void received.push((message.payload as { n: string }).n)),
      );
      await service.db.transaction(async (tx) => {
        await service.outbox.enqueue(tx, { topic, key: 'o-1', payload: { n: 'committed-1' } });
        await service.outbox.enqueue(tx, { topic, key: 'o-1', payload: { n: 'committed-2' } });
      });
      await expect(
        service.db.transaction(async (tx) => {
          await service.outbox.enqueue(tx, { topic, payload: { n: 'rolled-back' } });
          throw new Error('payment failed');
        }),
      ).rejects.toThrow('payment failed');
      // The relay polls once a minute here: only the notification at commit can wake it in time.
      await waitFor(
        'both committed',
        async () => received.length,
        (n) => n >= 2,
        5000,
      );
      await service.db.transaction(async (tx) => {
        await service.outbox.enqueue(tx, { topic, payload: { n: 'marker' } });
      });
      await waitFor('marker', async () => received.includes('marker'), Boolean, 5000);
      expect(received).toEqual(['committed-1', 'committed-2', 'marker']);
      // Marked sent after the confirm, possibly just after the consumer saw the message.
      await waitFor(
        'every row marked sent',
        async () =>
          (
            await service.db.query<{ pending: string }>(
              'select count(*) as pending from keelson_outbox where published_at is null and topic = $1',
              [topic],
            )
          ).rows[0]?.pending,
        (pending) => Number(pending) === 0,
        5000,
      );
    });

    it('idempotent consumer: a duplicate is acked without running the handler again', async () => {
      const topic = unique('invoice.issue');
      const table = `invoices_${randomUUID().slice(0, 8)}`;
      let runs = 0;
      let failOnce = true;
      const { service } = await start((s) =>
        s.messaging.consume(
          topic,
          async (message, { tx }) => {
            runs++;
            await tx?.query(`insert into ${table} (message_id) values ($1)`, [message.id]);
            // The inbox entry rolls back with the handler's writes: the retry runs it again.
            if (failOnce) {
              failOnce = false;
              throw new Error('transient');
            }
          },
          // One at a time: when the third message is written, the duplicate before it was settled.
          { idempotent: true, prefetch: 1 },
        ),
      );
      await service.db.query(`create table ${table} (message_id text not null)`);
      const message = {
        id: randomUUID(),
        topic,
        timestamp: Date.now(),
        source: 'test',
        contentType: 'application/json',
        headers: {},
        body: Buffer.from('{"invoice":1}'),
      };
      await service.messaging.send(message);
      await waitFor(
        'handled',
        async () => runs,
        (n) => n === 2,
        5000,
      );
      await service.messaging.send(message);
      await service.messaging.send({ ...message, id: randomUUID() });
      const { value: rows } = await waitFor(
        'second message written',
        async () => (await service.db.query<{ message_id: string }>(`select message_id from ${table}`)).rows,
        (r) => r.length === 2,
        5000,
      );
      expect(runs).toBe(3);
      expect(rows.filter((r) => r.message_id === message.id)).toHaveLength(1);
      await service.db.query(`drop table ${table}`);
    });

    it('shutdown: a handler in flight finishes before the service stops', async () => {
      const topic = unique('report.build');
      let finished = false;
      let begun = false;
      const { service } = await start((s) =>
        s.messaging.consume(topic, async () => {
          begun = true;
          await new Promise((resolve) => setTimeout(resolve, 300));
          finished = true;
        }),
      );
      await service.messaging.publish({ topic, payload: {} });
      await waitFor('handler begun', async () => begun, Boolean, 5000);
      running.splice(running.indexOf(service), 1);
      expect(await service.stop()).toBe(true);
      expect(finished).toBe(true);
    });
  });
}
