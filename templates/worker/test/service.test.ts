import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
// @@if database
import type { TransportMessage } from '@keelson/chassis';
// @@endif
import { LogCapture } from '@keelson/chassis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ITEMS_CREATED, type ItemCreated } from '../src/events.js';
import { build__Name__ } from '../src/service.js';

/** Reads until `done` holds, for up to 5 s: delivery is asynchronous, so poll rather than sleep. */
async function waitFor<T>(read: () => T | Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 200 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

// @@if database
const DUPLICATES_SKIPPED = /messaging_consumer_handled_total\{[^}]*outcome="duplicate"[^}]*\} (\d+)/;

// @@endif
const anItem = (quantity: number): ItemCreated => ({
  id: randomUUID(),
  name: 'anchor',
  quantity,
  createdAt: new Date().toISOString(),
});

// The whole service on its embedded defaults (nothing to install: the in-process broker, and the
// database in memory), on a free port, with logs kept in memory and only the environment given here.
describe('__name__', () => {
  let svc: Awaited<ReturnType<typeof build__Name__>>;
  let url: string;
  const logs = new LogCapture();
  const processedLogs = (itemId: string) =>
    logs.find('item processed').filter((line) => line.itemId === itemId);
  // @@if database
  const processedRows = async (itemId: string) =>
    (await svc.db.query('select item_id, low_stock from processed_items where item_id = $1', [itemId])).rows;
  // @@endif

  beforeAll(async () => {
    svc = await build__Name__({
      env: {},
      argv: [],
      handleProcess: false,
      logDestination: logs,
      overrides: { http: { port: 0 }, registry: { backend: 'none' } },
    });
    await svc.start();
    url = `http://127.0.0.1:${(svc.http.server.address() as AddressInfo).port}`;
  });
  afterAll(() => svc.stop());

  it('processes an items.created message', async () => {
    const item = anItem(1);
    await svc.messaging.publish<ItemCreated>({ topic: ITEMS_CREATED, key: item.id, payload: item });
    // @@if database
    const rows = await waitFor(
      () => processedRows(item.id),
      (found) => found.length > 0,
    );
    expect(rows).toEqual([{ item_id: item.id, low_stock: true }]);
    // @@else
    const lines = await waitFor(
      () => processedLogs(item.id),
      (found) => found.length > 0,
    );
    expect(lines).toEqual([expect.objectContaining({ lowStock: true })]);
    // @@endif
  });
  // @@if database

  it('handles a redelivered message once', async () => {
    const item = anItem(10);
    // A message as the broker carries it: sent twice with the same id, as a redelivery would.
    const message: TransportMessage = {
      id: randomUUID(),
      topic: ITEMS_CREATED,
      key: item.id,
      timestamp: Date.now(),
      source: 'test',
      contentType: 'application/json',
      headers: {},
      body: Buffer.from(JSON.stringify(item)),
    };
    await svc.messaging.send(message);
    await waitFor(
      () => processedRows(item.id),
      (found) => found.length > 0,
    );
    await svc.messaging.send(message);
    // The consumer counts the copies it skipped in its metrics.
    const duplicates = async () => {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      return Number(DUPLICATES_SKIPPED.exec(metrics)?.[1] ?? 0);
    };
    expect(await waitFor(duplicates, (count) => count > 0)).toBe(1);
    expect(await processedRows(item.id)).toHaveLength(1);
    expect(processedLogs(item.id)).toHaveLength(1);
  });
  // @@endif

  it('is ready', async () => {
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
  });
});
