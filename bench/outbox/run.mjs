// The transactional outbox against the broker's own ceiling, in the same run and on the same servers
// (PostgreSQL and RabbitMQ on loopback, started by scripts/infra.mjs when needed):
// 1. raw: amqplib publishing with confirms, a window of messages in flight, nothing else;
// 2. outbox: rows committed through svc.db + svc.outbox, published by the chassis relay, confirmed;
// 3. latency: one message per transaction at a moderate rate, commit to confirm, p50 / p99.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createService } from '@keelson/chassis';
import amqp from 'amqplib';
import { up } from '../../scripts/infra.mjs';

const THROUGHPUT_TARGET = 0.7;
const P50_TARGET_MS = 10;
const P99_TARGET_MS = 50;

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: process.env.BENCH_MESSAGES ?? '20000' },
    size: { type: 'string', default: process.env.BENCH_SIZE ?? '512' },
    rate: { type: 'string', default: process.env.BENCH_RATE ?? '200' },
    seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '5' },
  },
});
const messages = Number(values.messages);
const size = Number(values.size);
const rate = Number(values.rate);
const seconds = Number(values.seconds);

const urls = await up();
const exchange = 'keelson.events';
const topic = `bench.outbox.${randomUUID().slice(0, 8)}`;
const payload = { data: 'x'.repeat(Math.max(0, size - 12)) };
const body = Buffer.from(JSON.stringify(payload));

// A queue bound to the topic, so every publish is routable; purged and deleted at the end.
const admin = await amqp.connect(urls.amqp);
const adminChannel = await admin.createChannel();
await adminChannel.assertExchange(exchange, 'topic', { durable: true });
const { queue } = await adminChannel.assertQueue(`bench.${topic}`, { durable: false, autoDelete: false });
await adminChannel.bindQueue(queue, exchange, topic);

async function rawCeiling() {
  const connection = await amqp.connect(urls.amqp);
  const channel = await connection.createConfirmChannel();
  const window = 500;
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < messages) {
        next++;
        await new Promise((resolve, reject) =>
          channel.publish(
            exchange,
            topic,
            body,
            { persistent: true, mandatory: true, messageId: randomUUID(), contentType: 'application/json' },
            (error) => (error ? reject(error) : resolve()),
          ),
        );
      }
    }),
  );
  const rateRaw = messages / ((performance.now() - began) / 1000);
  await connection.close();
  return rateRaw;
}

const discard = new Writable({ write: (_c, _e, done) => done() });
const svc = await createService({
  name: 'bench-outbox',
  env: {},
  argv: [],
  configDir: '/nonexistent',
  handleProcess: false,
  logDestination: discard,
  overrides: {
    http: { host: '127.0.0.1', port: 0 },
    registry: { backend: 'none' },
    db: { url: urls.postgres },
    messaging: { url: urls.amqp },
  },
});
// Confirm times per message id, for the latency run.
const confirmedAt = new Map();
const send = svc.messaging.send.bind(svc.messaging);
svc.messaging.send = async (message) => {
  await send(message);
  confirmedAt.set(message.id, performance.now());
};
await svc.start();
await svc.db.query('delete from keelson_outbox where published_at is not null');

async function pending() {
  const { rows } = await svc.db.query(
    'select count(*) as n from keelson_outbox where published_at is null and topic = $1',
    [topic],
  );
  return Number(rows[0].n);
}

async function outboxThroughput() {
  const perTransaction = 100;
  const began = performance.now();
  for (let written = 0; written < messages; written += perTransaction) {
    await svc.db.transaction((tx) =>
      svc.outbox.enqueueAll(
        tx,
        Array.from({ length: perTransaction }, () => ({ topic, payload })),
      ),
    );
  }
  while ((await pending()) > 0) await delay(5);
  return messages / ((performance.now() - began) / 1000);
}

async function latency() {
  const committedAt = new Map();
  const total = rate * seconds;
  const interval = 1000 / rate;
  const began = performance.now();
  for (let i = 0; i < total; i++) {
    const id = await svc.db.transaction((tx) =>
      svc.outbox.enqueue(tx, { topic, key: `k${i % 50}`, payload }),
    );
    committedAt.set(id, performance.now());
    const wait = began + (i + 1) * interval - performance.now();
    if (wait > 0) await delay(wait);
  }
  while ((await pending()) > 0) await delay(5);
  const samples = [...committedAt].map(([id, at]) => confirmedAt.get(id) - at).sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: at(0.5), p99: at(0.99), count: samples.length };
}

const warm = await rawCeiling();
const rawRate = await rawCeiling();
const outboxRate = await outboxThroughput();
const { p50, p99, count } = await latency();

await svc.stop();
await adminChannel.deleteQueue(queue);
await admin.close();

const ratio = outboxRate / rawRate;
const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(
  `outbox benchmark: ${messages} messages of ${body.length} bytes, PostgreSQL + RabbitMQ on loopback`,
);
console.log(
  `  raw amqplib with confirms     ${fmt(rawRate).padStart(8)} msg/s   (warm-up run ${fmt(warm)} msg/s)`,
);
console.log(
  `  commit -> relay -> confirm    ${fmt(outboxRate).padStart(8)} msg/s   (enqueueAll, 100 rows per transaction)`,
);
console.log(
  `  ratio                         ${ratio.toFixed(2).padStart(8)}         target >= ${THROUGHPUT_TARGET}`,
);
console.log(
  `  latency at ${rate} msg/s, 1 row per transaction (${count} messages): p50 ${p50.toFixed(1)} ms (target <= ${P50_TARGET_MS}), p99 ${p99.toFixed(1)} ms (target <= ${P99_TARGET_MS})`,
);
process.exit(0);
