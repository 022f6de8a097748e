import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startOtlpReceiver } from '../../../packages/chassis/test/support/otlp-receiver.js';
import { dashboardQueries, exposedNames, metricNames, ruleFile } from './support/observability-files.js';
import { RealShop } from './support/real-shop.js';
import { waitFor } from './support/service-process.js';

// The shop as three processes on real PostgreSQL, RabbitMQ and etcd, exporting spans over OTLP.
let shop: RealShop;
let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;

const SEED = { 'sku-a': 100_000, 'sku-b': 50 };

beforeAll(async () => {
  otlp = await startOtlpReceiver();
  shop = await RealShop.start(
    { postgresUrl: inject('postgresUrl'), amqpUrl: inject('amqpUrl'), etcdUrl: inject('etcdUrl') },
    {
      STOCK_SEED: JSON.stringify(SEED),
      TRACING_EXPORTER: 'otlp',
      TRACING_OTLP_ENDPOINT: otlp.endpoint,
      TRACING_BATCH_DELAY_MS: '200',
      CLIENTS_INVENTORY_BREAKER_HALF_OPEN_AFTER_MS: '1000',
      // Time for the other services' discovery to see an instance leave before it stops serving.
      SHUTDOWN_PRE_STOP_DELAY_MS: '500',
      // Short consumer retries, so a poison message reaches its dead-letter queue within the test.
      MESSAGING_RETRY_DELAYS_MS: '200,500',
      MESSAGING_RETRY_MAX_ATTEMPTS: '3',
    },
  );
});

afterAll(async () => {
  await shop?.stop();
  await otlp?.close();
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

async function placeOrder(sku: string, quantity: number, traceId = hex(16)) {
  const response = await fetch(`${shop.url('orders')}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${hex(8)}-01` },
    body: JSON.stringify({ sku, quantity }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, traceId, retryAfter: response.headers.get('retry-after') };
}

async function stock(sku: string): Promise<number> {
  const rows = await shop.query<{ available: number }>(
    'inventory',
    'select available from stock where sku = $1',
    [sku],
  );
  return rows[0]?.available ?? Number.NaN;
}

describe('the shop on PostgreSQL, RabbitMQ and etcd, three processes', () => {
  it('200 concurrent orders all reach notified, stock ends at seed − ordered, one trace per order', async () => {
    const quantities = Array.from({ length: 200 }, (_, i) => 1 + (i % 3));
    const placed = await Promise.all(quantities.map((q) => placeOrder('sku-a', q)));
    // Then 80 orders of one unit race for the 50 units of sku-b.
    const contended = await Promise.all(Array.from({ length: 80 }, () => placeOrder('sku-b', 1)));
    const failures = [...placed, ...contended].filter((p) => p.status !== 201 && p.status !== 409);
    expect(failures.map((f) => `${f.status} ${f.body.reason} ${f.body.detail}`).slice(0, 5)).toEqual([]);
    expect(placed.map((p) => p.status)).toEqual(quantities.map(() => 201));
    expect(placed.every((p) => p.body.status === 'placed')).toBe(true);
    expect(contended.filter((c) => c.status === 201)).toHaveLength(50);
    expect(contended.filter((c) => c.status === 409)).toHaveLength(30);
    expect(contended.find((c) => c.status === 409)?.body).toMatchObject({
      title: 'Out of stock',
      status: 409,
    });

    const accepted = [...placed, ...contended.filter((c) => c.status === 201)];
    const ids = accepted.map((p) => String(p.body.id));
    await waitFor('every order notified', async () => {
      const [row] = await shop.query<{ n: string }>(
        'orders',
        `select count(*) as n from orders where status = 'notified'`,
      );
      return Number(row?.n) === ids.length;
    });
    const orders = await shop.query<{ id: string; notifications: number }>(
      'orders',
      'select id, notifications from orders',
    );
    expect(orders.map((o) => o.id).sort()).toEqual([...ids].sort());
    expect(orders.every((o) => o.notifications === 1)).toBe(true);
    const [notified] = await shop.query<{ n: string; orders: string }>(
      'notifications',
      'select count(*) as n, count(distinct order_id) as orders from notifications',
    );
    expect(Number(notified?.n)).toBe(ids.length);
    expect(Number(notified?.orders)).toBe(ids.length);

    expect(await stock('sku-a')).toBe(SEED['sku-a'] - quantities.reduce((a, b) => a + b, 0));
    expect(await stock('sku-b')).toBe(0);
    const first = placed[0]!;
    const answer = await fetch(`${shop.url('orders')}/orders/${first.body.id}`);
    expect(await answer.json()).toEqual({ id: first.body.id, sku: 'sku-a', quantity: 1, status: 'notified' });

    // Every order's spans: one trace (the id its request carried) across the three services.
    const expected = [
      'inventory POST /reservations',
      'notifications process order.placed',
      'orders POST /orders',
      'orders process notification.sent',
    ];
    const seen = (traceId: string) =>
      new Set(
        otlp.spans
          .filter((s) => s.traceId === traceId && (s.kind === 2 || s.kind === 5))
          .map((s) => `${s.service} ${s.name}`),
      );
    await waitFor('every trace exported', async () =>
      accepted.every((p) => expected.every((name) => seen(p.traceId).has(name))),
    );
    for (const p of accepted) expect([...seen(p.traceId)].sort()).toEqual(expected);
    const messageIds = otlp.spans
      .filter((s) => s.name === 'process order.placed')
      .map((s) => s.attributes['messaging.message.id']);
    expect(new Set(messageIds).size).toBe(ids.length);

    // The same trace id on the log lines of every service that worked on the order.
    const logged = (name: 'orders' | 'inventory' | 'notifications') =>
      shop.processes
        .get(name)
        ?.lines.filter((l) => l.trace_id === first.traceId)
        .map((l) => l.msg);
    expect(logged('orders')).toEqual(expect.arrayContaining(['order placed', 'order notified']));
    expect(logged('inventory')).toContain('stock reserved');
    expect(logged('notifications')).toContain('notification sent');
  });

  it('every dashboard query and rule names a metric the running services expose', async () => {
    const exposed = new Set<string>();
    for (const name of ['orders', 'inventory', 'notifications'] as const) {
      const text = await (await fetch(`${shop.url(name)}/metrics`)).text();
      for (const metric of exposedNames(text)) exposed.add(metric);
    }
    // Names the chassis' subsystems register, so a broken scrape cannot pass the check.
    expect(exposed).toContain('http_client_circuit_state');
    expect(exposed).toContain('outbox_oldest_pending_age_seconds');
    const rules = ruleFile().groups.flatMap((g) => g.rules);
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    const missing = [
      ...rules.map((r) => ({ where: r.record ?? r.alert, expr: r.expr })),
      ...dashboardQueries(),
    ].flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((metric) => !exposed.has(metric) && !recorded.has(metric))
        .map((metric) => `${where}: ${metric}`),
    );
    expect(missing).toEqual([]);
  });

  it('answers 400 on a bad body, 422 on an unknown SKU, 404 on an unknown order, all problem+json', async () => {
    const bad = await fetch(`${shop.url('orders')}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'sku-a', quantity: 0 }),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await placeOrder('no-such-sku', 1)).status).toBe(422);
    const missing = await fetch(`${shop.url('orders')}/orders/none`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: 404, detail: 'no order "none"' });
  });

  it('inventory reserves once per Idempotency-Key, and refuses the key for another reservation', async () => {
    const reserve = (body: object) =>
      fetch(`${shop.url('inventory')}/reservations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `key-${shop.run}` },
        body: JSON.stringify(body),
      });
    const before = await stock('sku-a');
    const first = await reserve({ sku: 'sku-a', quantity: 3 });
    const again = await reserve({ sku: 'sku-a', quantity: 3 });
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(await again.json()).toEqual({ sku: 'sku-a', quantity: 3, available: before - 3 });
    expect(await stock('sku-a')).toBe(before - 3);
    const other = await reserve({ sku: 'sku-a', quantity: 4 });
    expect(other.status).toBe(422);
    expect(await stock('sku-a')).toBe(before - 3);
  });

  it('a poison order.placed lands in the dead-letter queue with its reason', async () => {
    const connection = await amqp.connect(inject('amqpUrl'));
    try {
      const channel = await connection.createConfirmChannel();
      const publish = (id: string, body: string) =>
        new Promise<void>((resolve, reject) =>
          channel.publish(
            `${shop.run}.events`,
            'order.placed',
            Buffer.from(body),
            { messageId: id, type: 'order.placed', contentType: 'application/json', persistent: true },
            (error) => (error ? reject(error) : resolve()),
          ),
        );
      await publish(`not-json-${shop.run}`, '{"orderId": ');
      await publish(`not-an-order-${shop.run}`, JSON.stringify({ orderId: 'x', quantity: 0 }));
      const dead = new Map<string, unknown>();
      await waitFor('both messages dead-lettered', async () => {
        const message = await channel.get('notifications.order.placed.dlq', { noAck: true });
        if (message)
          dead.set(String(message.properties.messageId), message.properties.headers?.['x-keelson-error']);
        return dead.size === 2;
      });
      expect(String(dead.get(`not-json-${shop.run}`))).toMatch(/^malformed payload \(application\/json\)/);
      expect(String(dead.get(`not-an-order-${shop.run}`))).toContain(
        'invalid order.placed payload: sku must be a non-empty string; quantity must be an integer ≥ 1',
      );
    } finally {
      await connection.close();
    }
  });

  it('inventory SIGKILLed: orders answers 503 problem+json, at once when the circuit is open, then recovers', async () => {
    const inventory = shop.processes.get('inventory')!;
    inventory.child.kill('SIGKILL');
    await inventory.exit;
    const answers: { status: number; reason: unknown; retryAfter: string | null; ms: number }[] = [];
    for (let i = 0; i < 8; i++) {
      const began = performance.now();
      const { status, body, retryAfter } = await placeOrder('sku-a', 1);
      answers.push({ status, reason: body.reason, retryAfter, ms: performance.now() - began });
    }
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 503));
    // Each call makes up to 3 attempts; breaker.consecutiveFailures (5) failed attempts open the
    // circuit during the second call, after which calls are refused without being sent.
    expect(answers.slice(2).filter((a) => a.reason === 'circuit-open').length).toBeGreaterThanOrEqual(4);
    expect(answers.filter((a) => a.reason === 'circuit-open').every((a) => a.retryAfter === '1')).toBe(true);
    expect(Math.max(...answers.slice(2).map((a) => a.ms))).toBeLessThan(1000);

    await shop.spawn('inventory');
    // Recovers after breaker.halfOpenAfterMs (1 s here), once discovery sees the new instance.
    const recovered = await waitFor(
      'orders placed again',
      async () => (await placeOrder('sku-a', 1)).status === 201,
      15_000,
    );
    expect(recovered).toBe(true);
  });

  it('inventory rolled under load (a new instance, then SIGTERM to the old one): no order fails', async () => {
    let rolling = true;
    const statuses: number[] = [];
    const worker = async () => {
      while (rolling) statuses.push((await placeOrder('sku-a', 1)).status);
    };
    const workers = Promise.all([worker(), worker(), worker(), worker()]);
    await sleep(1000);
    const old = shop.processes.get('inventory')!;
    await shop.spawn('inventory');
    old.child.kill('SIGTERM');
    expect(await old.exit).toEqual({ code: 0, signal: null });
    await sleep(1000);
    rolling = false;
    await workers;
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
  });

  it('notifications SIGKILLed mid-batch: every order still reaches notified exactly once', async () => {
    const notifications = shop.processes.get('notifications')!;
    notifications.child.kill('SIGTERM');
    await notifications.exit;
    // A slow provider (200 ms a message, 10 in flight), so the kill lands in the middle of the work.
    const slow = await shop.spawn('notifications', { DELIVERY_LATENCY_MS: '200', MESSAGING_PREFETCH: '10' });
    const count = async (service: 'orders' | 'notifications', sql: string) =>
      Number((await shop.query<{ n: string }>(service, sql))[0]?.n);
    const before = await count('notifications', 'select count(*) as n from notifications');
    const placed = await Promise.all(Array.from({ length: 100 }, () => placeOrder('sku-a', 1)));
    expect(placed.map((p) => p.status)).toEqual(placed.map(() => 201));
    await waitFor('some notifications sent', async () => {
      const sent = await count('notifications', 'select count(*) as n from notifications');
      return sent - before >= 10;
    });
    slow.child.kill('SIGKILL');
    await slow.exit;
    const afterKill = await count('notifications', 'select count(*) as n from notifications');
    expect(afterKill - before).toBeLessThan(100);

    await shop.spawn('notifications');
    await waitFor('every order notified', async () => {
      const open = await count('orders', `select count(*) as n from orders where status <> 'notified'`);
      return open === 0;
    });
    const ids = placed.map((p) => String(p.body.id));
    const rows = await shop.query<{ id: string; notifications: number }>(
      'orders',
      'select id, notifications from orders where id = any($1)',
      [ids],
    );
    expect(rows).toHaveLength(100);
    expect(rows.filter((r) => r.notifications !== 1)).toEqual([]);
    expect(await count('notifications', 'select count(*) as n from notifications')).toBe(before + 100);
  });
});
