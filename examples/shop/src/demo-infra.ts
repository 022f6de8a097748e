import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensurePromtool, up } from '../../../scripts/infra.mjs';
import { prometheusConfig } from './infra/prometheus-config.js';
import { SHOP_SERVICES } from './shop-services.js';

/**
 * `npm run demo:infra`: the shop as three processes on PostgreSQL, RabbitMQ and etcd (started on
 * loopback by scripts/infra.mjs, or those named by KEELSON_TEST_*_URL), with a Prometheus server
 * (Debian's prometheus package) scraping them and evaluating Keelson's rules. Ctrl-C stops the
 * services and Prometheus; `npm run infra -- down` stops the servers.
 */
const PORTS = { orders: 3000, inventory: 3001, notifications: 3002 } as const;
const prometheusPort = Number(process.env.PROMETHEUS_PORT || 9090);
const dataDir = fileURLToPath(new URL('../.data/', import.meta.url));
const rulesFile = fileURLToPath(
  new URL('../../../observability/prometheus/keelson.rules.yml', import.meta.url),
);

const urls = await up();
await createDatabases(urls.postgres);

const children: ChildProcess[] = [];
for (const name of SHOP_SERVICES) {
  const db = new URL(urls.postgres);
  db.pathname = `/shop_${name}`;
  children.push(
    spawn(process.execPath, [fileURLToPath(new URL('./main.js', import.meta.url)), name], {
      stdio: 'inherit',
      env: {
        ...process.env,
        DB_URL: db.toString(),
        MESSAGING_URL: urls.amqp,
        REGISTRY_BACKEND: 'etcd',
        REGISTRY_ETCD_ENDPOINTS: urls.etcd,
      },
    }),
  );
}
children.push(await startPrometheus());
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

for (const name of SHOP_SERVICES) await waitReady(`http://127.0.0.1:${PORTS[name]}/health/ready`);
await waitReady(`http://127.0.0.1:${prometheusPort}/-/ready`);
process.stdout.write(`
Keelson shop on PostgreSQL (${redact(urls.postgres)}), RabbitMQ (${redact(urls.amqp)}), etcd (${urls.etcd})
  orders         http://127.0.0.1:3000  (API docs: http://127.0.0.1:3000/docs)
  inventory      http://127.0.0.1:3001  (API docs: http://127.0.0.1:3001/docs)
  notifications  http://127.0.0.1:3002  (health and metrics)
  Prometheus     http://127.0.0.1:${prometheusPort}  (alerts: http://127.0.0.1:${prometheusPort}/alerts, log: ${dataDir}prometheus/prometheus.log)
Place an order, then read it:
  curl -s -X POST http://127.0.0.1:3000/orders -H 'content-type: application/json' -d '{"sku":"sku-1","quantity":2}'
  curl -s http://127.0.0.1:3000/orders/<id>
Dashboards to import into Grafana: observability/grafana/*.json. Ctrl-C stops the services and Prometheus.

`);

async function createDatabases(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database');
    const existing = new Set(rows.map((r) => r.datname));
    for (const name of SHOP_SERVICES)
      if (!existing.has(`shop_${name}`)) await client.query(`create database shop_${name}`);
  } finally {
    await client.end();
  }
}

async function startPrometheus(): Promise<ChildProcess> {
  await ensurePromtool(); // installs Debian's prometheus package, server included, when missing
  const binary = execFileSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim();
  const dir = `${dataDir}prometheus/`;
  mkdirSync(dir, { recursive: true });
  const targets = SHOP_SERVICES.map((job) => ({ job, address: `127.0.0.1:${PORTS[job]}` }));
  writeFileSync(`${dir}prometheus.yml`, prometheusConfig({ rulesFile, targets }));
  return spawn(
    binary,
    [
      `--config.file=${dir}prometheus.yml`,
      `--storage.tsdb.path=${dir}data`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
    ],
    { stdio: ['ignore', 'ignore', openSync(`${dir}prometheus.log`, 'a')] },
  );
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(200);
  }
  throw new Error(`${url} not ready within 2 minutes`);
}

async function stop(): Promise<void> {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)));
  process.exit(0);
}

function redact(url: string): string {
  const u = new URL(url);
  u.password = u.password ? '***' : '';
  return u.toString();
}
