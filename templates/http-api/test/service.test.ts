import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { LogCapture } from '@keelson/chassis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @@if messaging
import { ITEMS_CREATED, type ItemCreated } from '../src/events.js';
// @@endif
import { build__Name__ } from '../src/service.js';
import type { Item, ItemPage } from '../src/store/items-store.js';

// The whole service on its embedded defaults (nothing to install: the in-process broker, and the
// database in memory), on a free port, with logs kept in memory and only the environment given here.
describe('__name__', () => {
  let svc: Awaited<ReturnType<typeof build__Name__>>;
  let url: string;
  // @@if messaging
  const published: ItemCreated[] = [];
  // @@endif

  beforeAll(async () => {
    svc = await build__Name__({
      env: {},
      argv: [],
      handleProcess: false,
      logDestination: new LogCapture(),
      overrides: { http: { port: 0 }, registry: { backend: 'none' } },
    });
    // @@if messaging
    // Stands in for the services that subscribe to the event (consumers are declared before start).
    svc.messaging.consume<ItemCreated>(ITEMS_CREATED, (message) => {
      published.push(message.payload);
    });
    // @@endif
    await svc.start();
    url = `http://127.0.0.1:${(svc.http.server.address() as AddressInfo).port}`;
  });
  afterAll(() => svc.stop());

  const create = (body: unknown) =>
    fetch(`${url}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('creates an item and reads it back', async () => {
    const created = await create({ name: 'Anchor', quantity: 3 });
    expect(created.status).toBe(201);
    const item = (await created.json()) as Item;
    expect(item).toMatchObject({ name: 'Anchor', quantity: 3 });
    expect(created.headers.get('location')).toBe(`/items/${item.id}`);

    const read = await fetch(`${url}/items/${item.id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(item);
  });

  it('lists items a page at a time', async () => {
    await create({ name: 'Rope', quantity: 1 });
    await create({ name: 'Sail', quantity: 2 });
    const page = (await (await fetch(`${url}/items?limit=1&offset=1`)).json()) as ItemPage;
    expect(page.items).toHaveLength(1);
    expect(page).toMatchObject({ limit: 1, offset: 1 });
    expect(page.total).toBeGreaterThanOrEqual(2);
  });

  it('rejects an invalid body with a problem listing the fields', async () => {
    const response = await create({ name: '', quantity: -1 });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as { errors: unknown[] };
    expect(problem.errors).toHaveLength(2);
  });

  it('answers 404 for an unknown item', async () => {
    const response = await fetch(`${url}/items/${randomUUID()}`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('is ready and documents its routes', async () => {
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/items', '/items/{id}']));
  });
  // @@if messaging

  it('publishes items.created for a new item', async () => {
    const item = (await (await create({ name: 'Buoy', quantity: 7 })).json()) as Item;
    // Delivery is asynchronous: poll, bounded, rather than guess how long it takes.
    for (let i = 0; i < 200 && !published.some((event) => event.id === item.id); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(published.find((event) => event.id === item.id)).toEqual(item);
  });
  // @@endif
});
