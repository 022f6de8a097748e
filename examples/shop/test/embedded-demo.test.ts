import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, spawnShopScript, waitFor } from './support/service-process.js';

// `npm run demo` as a user runs it: the three services in one process on PGlite, the in-process
// broker and the local registry. Free ports instead of 3000-3002, which a developer may be using.
const dir = mkdtempSync(join(tmpdir(), 'keelson-shop-demo-'));
const env = {
  SHOP_DATA_DIR: join(dir, 'data'),
  REGISTRY_LOCAL_DIR: join(dir, 'registry'),
  ORDERS_HTTP_PORT: '0',
  INVENTORY_HTTP_PORT: '0',
  NOTIFICATIONS_HTTP_PORT: '0',
};
const BANNER_URL = /^\s+(orders|inventory|notifications)\s+(http:\/\/127\.0\.0\.1:\d+)/;

let demo: ServiceProcess | undefined;

afterAll(async () => {
  demo?.child.kill('SIGTERM');
  await demo?.exit;
  rmSync(dir, { recursive: true, force: true });
});

async function startDemo(timeoutMs: number) {
  const urls: Record<string, string> = {};
  const began = performance.now();
  demo = await spawnShopScript(
    'demo.js',
    [],
    env,
    (line) => {
      const match = BANNER_URL.exec(String(line.raw ?? ''));
      if (match?.[1] && match[2]) urls[match[1]] = match[2];
      return String(line.raw).startsWith('Every service:') ? 'printed' : undefined;
    },
    timeoutMs,
  );
  return { urls, began };
}

const placeOrder = (orders: string) =>
  fetch(`${orders}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku: 'sku-1', quantity: 2 }),
  });

describe('npm run demo (embedded defaults, one process)', () => {
  it('prints the three URLs and a curl; the documented curl answers within 10 s of start', async () => {
    // The first start creates the three PGlite data directories; a user pays that once.
    await startDemo(120_000);
    demo?.child.kill('SIGINT');
    expect((await demo?.exit)?.code).toBe(0);

    const { urls, began } = await startDemo(10_000);
    expect(Object.keys(urls).sort()).toEqual(['inventory', 'notifications', 'orders']);
    const banner = demo?.lines.map((l) => String(l.raw ?? '')).join('\n');
    expect(banner).toContain(
      `curl -s -X POST ${urls.orders}/orders -H 'content-type: application/json' -d '{"sku":"sku-1","quantity":2}'`,
    );
    const placed = await placeOrder(urls.orders!);
    expect(placed.status).toBe(201);
    expect(performance.now() - began).toBeLessThan(10_000);

    // The order travels orders → inventory → broker → notifications → orders, one trace id.
    const { id } = (await placed.json()) as { id: string };
    const order = await waitFor('the order notified', async () => {
      const body = (await (await fetch(`${urls.orders}/orders/${id}`)).json()) as { status: string };
      return body.status === 'notified' ? body : undefined;
    });
    expect(order).toEqual({ id, sku: 'sku-1', quantity: 2, status: 'notified' });
    const placedLine = demo?.lines.find((l) => l.msg === 'order placed' && l.orderId === id);
    const traced = demo?.lines.filter((l) => l.trace_id === placedLine?.trace_id) ?? [];
    expect(traced.map((l) => `${l.service} ${l.msg}`)).toEqual(
      expect.arrayContaining([
        'inventory stock reserved',
        'orders order placed',
        'notifications notification sent',
        'orders order notified',
      ]),
    );
    const stock = await (await fetch(`${urls.inventory}/stock/sku-1`)).json();
    expect(stock).toEqual({ sku: 'sku-1', available: 98 });
    expect((await fetch(`${urls.notifications}/health/ready`)).status).toBe(200);
  }, 240_000);
});
