import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Service } from '@keelson/chassis';
import { createShopService } from './create-shop-service.js';
import { SHOP_SERVICES, type ShopServiceName } from './shop-services.js';

/**
 * The shop on the embedded defaults, in one process: the in-process broker cannot span processes,
 * so the three services share this one, each still its own `createService` with its own config
 * (config/<service>/), database (PGlite), logs, metrics and registry entry.
 *
 * Each database is PGlite kept on disk under `SHOP_DATA_DIR` (`examples/shop/.data` by default):
 * creating a PostgreSQL data directory takes seconds, reopening one well under two.
 *
 * Environment variables apply to all three; `<SERVICE>_<VAR>` applies to one service only, e.g.
 * `ORDERS_HTTP_PORT=4000` or `INVENTORY_STOCK_SEED='{"sku-1":5}'`.
 */
function envFor(name: ShopServiceName, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const prefix = `${name.toUpperCase()}_`;
  const own = Object.entries(env)
    .filter(([key]) => key.startsWith(prefix))
    .map(([key, value]) => [key.slice(prefix.length), value]);
  const dataDir = env.SHOP_DATA_DIR || fileURLToPath(new URL('../.data', import.meta.url));
  // Each service its own database: a DB_URL for all three would share one outbox and inbox, so only
  // <SERVICE>_DB_URL is read.
  const { DB_URL: _shared, ...rest } = env;
  return { ...rest, DB_URL: `pglite:${join(dataDir, name)}`, ...Object.fromEntries(own) };
}

// In parallel, so the three databases open at the same time; orders finds inventory through the
// registry when a request comes, not at start. Flags would apply to every service: the demo takes
// its settings from files and env.
const services = await Promise.all(
  SHOP_SERVICES.map(async (name) => {
    const svc = await createShopService(name, { env: envFor(name, process.env), argv: [] });
    await svc.start();
    return svc;
  }),
);
const [inventory, notifications, orders] = services.map(urlOf);
process.stdout.write(`
Keelson shop on the embedded defaults (PGlite, in-process broker, local registry)
  orders         ${orders}  (API docs: ${orders}/docs)
  inventory      ${inventory}  (API docs: ${inventory}/docs)
  notifications  ${notifications}  (health and metrics)
Place an order, then read it (its status turns "notified"):
  curl -s -X POST ${orders}/orders -H 'content-type: application/json' -d '{"sku":"sku-1","quantity":2}'
  curl -s ${orders}/orders/<id>
  curl -s ${inventory}/stock/sku-1
Every service: /health/ready, /metrics. Ctrl-C stops all three.

`);

function urlOf(svc: Pick<Service, 'http'>): string {
  const { address, port } = svc.http.server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}
