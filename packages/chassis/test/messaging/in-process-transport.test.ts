import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBroker, InProcessTransport } from '../../src/messaging/in-process-transport.js';
import { topicMatches } from '../../src/messaging/topic-pattern.js';
import {
  DEAD_LETTER_HEADERS,
  type Delivery,
  type TransportMessage,
  UnroutableError,
} from '../../src/messaging/transport-port.js';
import { waitUntil } from '../support/wait.js';

let ids = 0;
function message(topic: string, text = topic, headers: Record<string, string> = {}): TransportMessage {
  return {
    id: `m-${++ids}`,
    topic,
    timestamp: Date.now(),
    source: 'test',
    contentType: 'text/plain',
    headers,
    body: Buffer.from(text),
  };
}

/** A promise and its resolver, to hold handlers until the test lets them go. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

const text = (d: Delivery) => d.message.body.toString();

describe('in-process transport', () => {
  const transports: InProcessTransport[] = [];
  const transport = (broker: InProcessBroker) => {
    const created = new InProcessTransport({ broker });
    transports.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(transports.splice(0).map((t) => t.close()));
  });

  /** A started transport on a fresh broker, and a consumer that records and acks what it gets. */
  const setup = async () => {
    const broker = new InProcessBroker();
    const t = transport(broker);
    await t.start();
    const collect = async (queue: string, topics: string[], prefetch = 10) => {
      const received: Delivery[] = [];
      const subscription = await t.subscribe({ queue, topics, prefetch }, async (d) => {
        received.push(d);
        await d.ack();
      });
      return { received, subscription };
    };
    return { broker, t, collect };
  };

  it('matches binding patterns with topic-exchange semantics', () => {
    expect(topicMatches('orders.#', 'orders')).toBe(true);
    expect(topicMatches('orders.#', 'orders.created')).toBe(true);
    expect(topicMatches('orders.#', 'orders.a.b')).toBe(true);
    expect(topicMatches('orders.#', 'ordersx.created')).toBe(false);
    expect(topicMatches('*.created', 'orders.created')).toBe(true);
    expect(topicMatches('*.created', 'created')).toBe(false);
    expect(topicMatches('*.created', 'a.b.created')).toBe(false);
    expect(topicMatches('#', 'anything.at.all')).toBe(true);
    expect(topicMatches('#.created', 'created')).toBe(true);
    expect(topicMatches('a.#.z', 'a.z')).toBe(true);
    expect(topicMatches('a.#.z', 'a.b.c.z')).toBe(true);
    expect(topicMatches('a.*.z', 'a.z')).toBe(false);
    expect(topicMatches('orders.created', 'orders.created')).toBe(true);
    expect(topicMatches('orders.created', 'orders.updated')).toBe(false);
    expect(topicMatches('#.#.#.#.#.#.#.#.#.#.#.x', 'a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.y')).toBe(false);
  });

  it('routes a copy to every queue with a matching binding', async () => {
    const { t, collect } = await setup();
    const all = await collect('audit', ['#']);
    const orders = await collect('billing', ['orders.#']);
    const created = await collect('mailer', ['*.created', 'users.deleted']);

    for (const topic of [
      'orders',
      'orders.created',
      'orders.a.b',
      'users.created',
      'users.deleted',
      'a.b.created',
    ]) {
      await t.publish(message(topic));
    }
    await waitUntil('all routed', () => all.received.length === 6 && orders.received.length === 3);
    await waitUntil('mailer', () => created.received.length === 3);
    expect(orders.received.map(text)).toEqual(['orders', 'orders.created', 'orders.a.b']);
    expect(created.received.map(text)).toEqual(['orders.created', 'users.created', 'users.deleted']);
    // Each queue got its own copy.
    expect(all.received[1]!.message).not.toBe(orders.received[1]!.message);
    expect(all.received[1]!.message.body).not.toBe(orders.received[1]!.message.body);
  });

  it('rejects a publish no queue is bound for with UnroutableError', async () => {
    const { t, collect } = await setup();
    await collect('billing', ['orders.*']);
    const error = await t.publish(message('payments.captured')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnroutableError);
    expect(error).toMatchObject({ code: 'EUNROUTABLE', topic: 'payments.captured' });
    await expect(t.publish(message('orders.created'))).resolves.toBeUndefined();
  });

  it('never runs a consumer inside the publisher call stack', async () => {
    const { t, collect } = await setup();
    const { received } = await collect('q', ['a']);
    await t.publish(message('a'));
    expect(received).toHaveLength(0);
    await waitUntil('delivered', () => received.length === 1);
  });

  it('copies body and headers on publish: later changes by the caller change nothing', async () => {
    const { t, collect } = await setup();
    const sent = message('a', 'original', { 'x-trace': '1' });
    await t.subscribe({ queue: 'q', topics: ['a'], prefetch: 1 }, async () => {}).then((s) => s.cancel());
    await t.publish(sent);
    sent.body.write('XXXXXXXX');
    sent.headers['x-trace'] = 'changed';
    const { received } = await collect('q', []);
    await waitUntil('delivered', () => received.length === 1);
    expect(text(received[0]!)).toBe('original');
    expect(received[0]!.message.headers).toEqual({ 'x-trace': '1' });
    expect(received[0]!).toMatchObject({ attempt: 1, redelivered: false });
  });

  it('keeps messages published while no one subscribes, and bindings after cancel and close', async () => {
    const { broker, t, collect } = await setup();
    const first = await collect('inventory', ['orders.created']);
    await first.subscription.cancel();
    await t.publish(message('orders.created', 'one'));
    await t.publish(message('orders.created', 'two'));
    await t.close();

    // A service started again in the same process finds its queue and its messages.
    const again = transport(broker);
    await again.start();
    const received: string[] = [];
    await again.subscribe({ queue: 'inventory', topics: [], prefetch: 5 }, async (d) => {
      received.push(text(d));
      await d.ack();
    });
    await waitUntil('both delivered', () => received.length === 2);
    expect(received).toEqual(['one', 'two']);
  });

  it('splits the messages of one queue between competing consumers, round robin', async () => {
    const { broker, collect } = await setup();
    const other = transport(broker);
    const a = await collect('workers', ['jobs.#']);
    const b: Delivery[] = [];
    await other.subscribe({ queue: 'workers', topics: ['jobs.#'], prefetch: 10 }, async (d) => {
      b.push(d);
      await d.ack();
    });
    for (let i = 0; i < 10; i++) await other.publish(message('jobs.run', `job-${i}`));
    await waitUntil('all delivered', () => a.received.length + b.length === 10);
    expect(a.received).toHaveLength(5);
    expect(b).toHaveLength(5);
    expect(new Set([...a.received, ...b].map(text)).size).toBe(10);
  });

  it('keeps at most prefetch deliveries in flight on a subscription', async () => {
    const { t } = await setup();
    const release = gate();
    let running = 0;
    let most = 0;
    let done = 0;
    await t.subscribe({ queue: 'q', topics: ['work'], prefetch: 3 }, async (d) => {
      running++;
      most = Math.max(most, running);
      await release.wait;
      running--;
      await d.ack();
      done++;
    });
    for (let i = 0; i < 10; i++) await t.publish(message('work'));
    await waitUntil('three running', () => running === 3);
    await delay(30);
    expect(running).toBe(3);
    release.open();
    await waitUntil('all handled', () => done === 10);
    expect(most).toBe(3);
  });

  it('frees a prefetch slot on settle, even while the handler is still running', async () => {
    const { t } = await setup();
    const release = gate();
    const started: string[] = [];
    await t.subscribe({ queue: 'q', topics: ['work'], prefetch: 1 }, async (d) => {
      started.push(text(d));
      await d.ack();
      await release.wait;
    });
    await t.publish(message('work', 'one'));
    await t.publish(message('work', 'two'));
    await waitUntil('both started', () => started.length === 2);
    release.open();
  });

  it('delivers in publish order to a single consumer with prefetch 1', async () => {
    const { t } = await setup();
    const received: string[] = [];
    await t.subscribe({ queue: 'q', topics: ['seq'], prefetch: 1 }, async (d) => {
      await delay(Math.random() * 3);
      received.push(text(d));
      await d.ack();
    });
    const sent = Array.from({ length: 20 }, (_, i) => `n-${i}`);
    for (const body of sent) await t.publish(message('seq', body));
    await waitUntil('all delivered', () => received.length === sent.length);
    expect(received).toEqual(sent);
  });

  it('delivers again after retryLater, with attempt + 1', async () => {
    const { t } = await setup();
    const seen: Delivery[] = [];
    await t.subscribe({ queue: 'q', topics: ['a'], prefetch: 1 }, async (d) => {
      seen.push(d);
      if (d.attempt === 1) await d.retryLater(20);
      else await d.ack();
    });
    await t.publish(message('a', 'payload', { 'x-custom': 'kept' }));
    await waitUntil('second attempt', () => seen.length === 2);
    expect(seen.map((d) => [d.attempt, d.redelivered])).toEqual([
      [1, false],
      [2, false],
    ]);
    expect(text(seen[1]!)).toBe('payload');
    expect(seen[1]!.message.headers).toEqual({ 'x-custom': 'kept' });
    expect(seen[1]!.message.id).toBe(seen[0]!.message.id);
    await expect(seen[0]!.retryLater(-1)).rejects.toThrow(RangeError);
  });

  it('dead-letters into <queue>.dlq with the reason, attempts and origin in headers', async () => {
    const { t } = await setup();
    await t.subscribe({ queue: 'billing', topics: ['orders.*'], prefetch: 1 }, async (d) => {
      if (d.attempt < 2) await d.retryLater(5);
      else await d.deadLetter('boom: no such customer');
    });
    const sent = message('orders.created', 'order-1', { traceparent: 'tp' });
    const before = Date.now();
    await t.publish(sent);
    await waitUntil('dead-lettered', async () => (await t.deadLetters('billing')).length === 1);
    const [dead] = await t.deadLetters('billing');
    expect(dead).toMatchObject({ id: sent.id, topic: 'orders.created', source: 'test' });
    expect(dead!.body.toString()).toBe('order-1');
    expect(dead!.headers).toMatchObject({
      traceparent: 'tp',
      [DEAD_LETTER_HEADERS.error]: 'boom: no such customer',
      [DEAD_LETTER_HEADERS.attempts]: '2',
      [DEAD_LETTER_HEADERS.topic]: 'orders.created',
      [DEAD_LETTER_HEADERS.queue]: 'billing',
    });
    const at = Date.parse(dead!.headers[DEAD_LETTER_HEADERS.at]!);
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(new Date(at).toISOString()).toBe(dead!.headers[DEAD_LETTER_HEADERS.at]);

    // The dead-letter queue is a queue: a tool can consume it.
    const fromDlq: string[] = [];
    const s = await t.subscribe({ queue: 'billing.dlq', topics: [], prefetch: 1 }, async (d) => {
      fromDlq.push(d.message.id);
      await d.ack();
    });
    await waitUntil('consumed from the dlq', () => fromDlq.length === 1);
    await s.cancel();
    expect(await t.deadLetters('billing')).toEqual([]);
  });

  it('redrives dead letters back into the queue with attempt 1 and without dead-letter headers', async () => {
    const { t } = await setup();
    let fixed = false;
    const handled: Delivery[] = [];
    await t.subscribe({ queue: 'q', topics: ['a'], prefetch: 5 }, async (d) => {
      if (!fixed) return d.deadLetter('not yet');
      handled.push(d);
      await d.ack();
    });
    for (const body of ['one', 'two', 'three']) await t.publish(message('a', body, { 'x-custom': body }));
    await waitUntil('all dead', async () => (await t.deadLetters('q')).length === 3);
    expect(await t.deadLetters('q', 2)).toHaveLength(2);
    expect(await t.deadLetters('q')).toHaveLength(3); // reading removed nothing

    fixed = true;
    expect(await t.redrive('q', 2)).toBe(2);
    await waitUntil('two redriven', () => handled.length === 2);
    expect(await t.deadLetters('q')).toHaveLength(1);
    expect(await t.redrive('q')).toBe(1);
    await waitUntil('all redriven', () => handled.length === 3);
    expect(handled.map(text)).toEqual(['one', 'two', 'three']);
    for (const d of handled) {
      expect(d).toMatchObject({ attempt: 1, redelivered: false });
      expect(d.message.headers).toEqual({ 'x-custom': text(d) });
    }
    expect(await t.redrive('q')).toBe(0);
    expect(await t.redrive('never-used')).toBe(0);
  });

  it('requeues at the front, redelivered with the same attempt, when the handler throws unsettled', async () => {
    const { t } = await setup();
    const seen: Delivery[] = [];
    await t.subscribe({ queue: 'q', topics: ['a'], prefetch: 1 }, async (d) => {
      seen.push(d);
      if (seen.length === 1) throw new Error('handler machinery failed');
      await d.ack();
    });
    await t.publish(message('a', 'first'));
    await t.publish(message('a', 'second'));
    await waitUntil('three deliveries', () => seen.length === 3);
    expect(seen.map((d) => [text(d), d.attempt, d.redelivered])).toEqual([
      ['first', 1, false],
      ['first', 1, true],
      ['second', 1, false],
    ]);
    // The requeued delivery can no longer be settled.
    await expect(seen[0]!.ack()).rejects.toThrow(/already settled/);
  });

  it('throws a clear error when a delivery is settled twice', async () => {
    const { t } = await setup();
    const errors: unknown[] = [];
    await t.subscribe({ queue: 'q', topics: ['a'], prefetch: 1 }, async (d) => {
      await d.ack();
      for (const again of [() => d.ack(), () => d.retryLater(10), () => d.deadLetter('x')]) {
        errors.push(await again().catch((e: unknown) => e));
      }
    });
    await t.publish(message('a'));
    await waitUntil('settled thrice more', () => errors.length === 3);
    for (const error of errors) expect((error as Error).message).toMatch(/already settled; cannot/);
    expect(await t.deadLetters('q')).toEqual([]);
  });

  it('cancel stops new deliveries and waits for the in-flight ones', async () => {
    const { t, collect } = await setup();
    const release = gate();
    const started: string[] = [];
    let acked = 0;
    const subscription = await t.subscribe({ queue: 'q', topics: ['a'], prefetch: 2 }, async (d) => {
      started.push(text(d));
      await release.wait;
      await d.ack();
      acked++;
    });
    for (const body of ['one', 'two', 'three']) await t.publish(message('a', body));
    await waitUntil('two in flight', () => started.length === 2);

    let cancelled = false;
    const cancelling = subscription.cancel().then(() => {
      cancelled = true;
    });
    await delay(20);
    expect(cancelled).toBe(false);
    release.open();
    await cancelling;
    expect(acked).toBe(2);
    expect(started).toEqual(['one', 'two']);

    // The third waited in the queue for the next consumer.
    const next = await collect('q', []);
    await waitUntil('third delivered', () => next.received.length === 1);
    expect(text(next.received[0]!)).toBe('three');
  });

  it('returns deliveries left unsettled at cancel to the front of the queue, redelivered', async () => {
    const { t, collect } = await setup();
    const release = gate();
    let started = 0;
    const subscription = await t.subscribe({ queue: 'q', topics: ['a'], prefetch: 1 }, async () => {
      started++;
      await release.wait;
    });
    await t.publish(message('a', 'one'));
    await t.publish(message('a', 'two'));
    await waitUntil('in flight', () => started === 1);
    const cancelling = subscription.cancel();
    release.open();
    await cancelling;
    const next = await collect('q', []);
    await waitUntil('both delivered', () => next.received.length === 2);
    expect(next.received.map((d) => [text(d), d.redelivered])).toEqual([
      ['one', true],
      ['two', false],
    ]);
  });

  it('close waits for in-flight deliveries; afterwards publish, subscribe and ping reject', async () => {
    const { broker, t } = await setup();
    await t.start(); // idempotent
    await expect(t.ping()).resolves.toBeUndefined();
    const release = gate();
    let acked = false;
    await t.subscribe({ queue: 'q', topics: ['a'], prefetch: 1 }, async (d) => {
      await release.wait;
      await d.ack();
      acked = true;
    });
    await t.publish(message('a'));
    await delay(10);
    const closing = t.close();
    release.open();
    await closing;
    expect(acked).toBe(true);

    await expect(t.publish(message('a'))).rejects.toThrow(/closed/);
    await expect(t.subscribe({ queue: 'q', topics: ['a'], prefetch: 1 }, async () => {})).rejects.toThrow(
      /closed/,
    );
    await expect(t.ping()).rejects.toThrow(/closed/);
    await expect(t.close()).resolves.toBeUndefined();
    // The queue and its binding stay in the broker for the rest of the process.
    await expect(transport(broker).publish(message('a'))).resolves.toBeUndefined();
  });

  it('fails ping before start and refuses a prefetch below 1', async () => {
    const t = transport(new InProcessBroker());
    await expect(t.ping()).rejects.toThrow(/not started/);
    await expect(t.subscribe({ queue: 'q', topics: ['a'], prefetch: 0 }, async () => {})).rejects.toThrow(
      RangeError,
    );
    expect(t.kind).toBe('in-process');
  });

  it('shares the process-wide broker between transports created without one', async () => {
    const orders = transport(InProcessBroker.shared as InProcessBroker);
    const inventory = new InProcessTransport();
    transports.push(inventory);
    const queue = `inventory-${process.pid}-${Date.now()}`;
    const topic = `test.${queue}.created`;
    const received: string[] = [];
    await inventory.subscribe({ queue, topics: [topic], prefetch: 1 }, async (d) => {
      received.push(text(d));
      await d.ack();
    });
    await orders.publish(message(topic, 'hello'));
    await waitUntil('delivered across transports', () => received.length === 1);
    expect(received).toEqual(['hello']);
  });
});
