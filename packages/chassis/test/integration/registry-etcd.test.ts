import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { startServer, stopServer } from '../../../../scripts/infra.mjs';
import { startTestService } from '../../src/testing/index.js';
import { describeRegistryBehaviour, FAST } from '../support/registry-behaviour.js';
import { waitFor } from '../support/wait.js';

const etcdUrl = inject('etcdUrl');
const etcd = new Etcd3({ hosts: [etcdUrl] });
afterAll(() => etcd.close());
const namespace = () => `/keelson-test/${randomUUID()}/`;

describeRegistryBehaviour({
  backend: 'etcd',
  settings: () => ({ backend: 'etcd', etcd: { endpoints: [etcdUrl], prefix: namespace() } }),
  env: (settings) => ({
    REGISTRY_BACKEND: 'etcd',
    REGISTRY_ETCD_ENDPOINTS: etcdUrl,
    REGISTRY_ETCD_PREFIX: (settings.etcd as { prefix: string }).prefix,
    REGISTRY_TTL_MS: String(settings.ttlMs),
    REGISTRY_HEARTBEAT_MS: String(settings.heartbeatMs),
  }),
  // A lease that expired during a partition: revoking it deletes the record with it.
  loseRecord: async (settings, instance) => {
    const key = `${(settings.etcd as { prefix: string }).prefix}${instance.service}/${instance.id}`;
    const { kvs } = await etcd.get(key).exec();
    const lease = kvs[0]?.lease;
    if (!lease) throw new Error(`no lease on ${key}`);
    await etcd.leaseClient.leaseRevoke({ ID: lease });
  },
});

describe('etcd lease TTL', () => {
  const running: { stop(): Promise<boolean> }[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
  const registry = (ttlMs: number) => ({
    backend: 'etcd',
    etcd: { endpoints: [etcdUrl], prefix: namespace() },
    ttlMs,
    heartbeatMs: 250,
  });

  it('refuses a registry.ttlMs that is not a whole number of seconds, naming the key', async () => {
    await expect(startTestService({ overrides: { registry: registry(2500) } })).rejects.toThrow(
      'registry.ttlMs=2500 cannot be used with registry.backend=etcd: etcd leases count whole seconds; set a multiple of 1000 ms (for example 3000)',
    );
  });

  it('grants the lease registry.ttlMs asks for, and says so when etcd grants a longer one', async () => {
    const exact = registry(3000);
    const started = await startTestService({ name: 'leased', overrides: { registry: exact } });
    running.push(started.service);
    const key = `${exact.etcd.prefix}leased/${started.service.instanceId}`;
    const { value: kvs } = await waitFor(
      'record',
      async () => (await etcd.get(key).exec()).kvs,
      (found) => found.length === 1,
      5000,
    );
    const { grantedTTL } = await etcd.leaseClient.leaseTimeToLive({ ID: kvs[0]?.lease ?? '0' });
    expect(Number(grantedTTL)).toBe(3);
    expect(started.logs.find('etcd granted a lease')).toEqual([]);

    // One second is below etcd's minimum lease TTL (2 s with its default election timeout).
    const short = await startTestService({ name: 'short', overrides: { registry: registry(1000) } });
    running.push(short.service);
    const { value: lines } = await waitFor(
      'warning',
      async () => short.logs.find('etcd granted a lease'),
      (found) => found.length > 0,
      5000,
    );
    expect(lines[0]).toMatchObject({ level: 'warn', requestedTtlMs: 1000, grantedTtlMs: 2000 });
  });
});

describe('etcd outage', () => {
  const running: { stop(): Promise<boolean> }[] = [];
  afterEach(async () => {
    await startServer('etcd');
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });

  it('discovery serves cached instances while etcd is down; the instance registers again after', async () => {
    const settings = { backend: 'etcd', etcd: { endpoints: [etcdUrl], prefix: namespace() }, ...FAST };
    const inventory = await startTestService({
      name: 'inventory',
      overrides: { registry: settings },
      setup: (s) => void s.http.get('/stock', async () => ({ sku: 42, count: 7 })),
    });
    const caller = await startTestService({ name: 'caller', overrides: { registry: settings } });
    running.push(inventory.service, caller.service);
    await waitFor(
      'registered',
      () => caller.service.discovery.instances('inventory'),
      (f) => f.length === 1,
      2000,
    );

    await stopServer('etcd');
    // Longer than the TTL: the lease is gone for good, a new one must be granted.
    await delay(FAST.ttlMs + 1000);
    expect(await caller.service.discovery.instances('inventory')).toHaveLength(1);
    const response = await caller.service.clients.http('inventory').get('/stock');
    expect(response.body).toEqual({ sku: 42, count: 7 });
    // The registry is a non-critical dependency: both services stay ready.
    const ready = await fetch(`${caller.url}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { checks: Record<string, { status: string }[]> };
    expect(body.checks['registry:etcd']?.[0]?.status).toBe('fail');
    expect((await fetch(`${inventory.url}/health/ready`)).status).toBe(200);

    await startServer('etcd');
    const key = `${settings.etcd.prefix}inventory/${inventory.service.instanceId}`;
    // Registered again by itself, on a lease that is alive: still there after the old lease's TTL.
    await waitFor(
      'record back',
      () => etcd.get(key).string(),
      (v) => v !== null,
      10_000,
    );
    await delay(FAST.ttlMs + 1000);
    const { kvs } = await etcd.get(key).exec();
    expect(kvs).toHaveLength(1);
    const { TTL } = await etcd.leaseClient.leaseTimeToLive({ ID: kvs[0]?.lease ?? '0' });
    expect(Number(TTL)).toBeGreaterThan(0);
    expect(inventory.logs.find('etcd lease lost').length).toBeGreaterThan(0);
    const failures = await fetch(`${inventory.url}/metrics`).then((r) => r.text());
    expect(failures).toMatch(/^registry_operation_failures_total\{operation="heartbeat"\} [1-9]/m);
  }, 60_000);
});
