import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsulRegistry } from '../../src/registry/consul-registry.js';
import { startTestService } from '../../src/testing/index.js';
import {
  CATALOG_SERVICES,
  CHECK_FAIL,
  CHECK_PASS,
  CHECK_PASS_ACL_DENIED,
  CHECK_PASS_NO_TTL,
  CHECK_PASS_UNKNOWN,
  DEREGISTER,
  type Exchange,
  HEALTH_SERVICE,
  HEALTH_SERVICE_CONSUL,
  INSTANCE,
  MAINTENANCE_ON,
  REGISTER,
  STATUS_LEADER,
  STATUS_NO_LEADER,
  WATCH_CHANGED,
  WATCH_FIRST,
} from '../fixtures/consul-agent-exchanges.js';
import { startConsulReplay } from '../support/consul-replay.js';
import { waitFor } from '../support/wait.js';

// The Consul adapter against request/response pairs of the documented agent API on a loopback
// replay server. No live Consul agent runs in these tests.
describe('consul registry (recorded agent API exchanges)', () => {
  const replays: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(replays.splice(0).map((r) => r.close()));
  });
  const replay = async (exchanges: Exchange[]) => {
    const server = await startConsulReplay(exchanges);
    replays.push(server);
    const registry = new ConsulRegistry({
      url: server.url,
      token: 'secret-token',
      ttlMs: 10_000,
      deregisterCriticalAfterSeconds: 30,
      log: pino({ level: 'silent' }),
    });
    return { server, registry };
  };
  const sent = (exchanges: Exchange[]) =>
    exchanges.map(({ request }) => ({ ...request, token: 'secret-token' }));

  it('registers with a TTL check and DeregisterCriticalServiceAfter (at least a minute), and passes it', async () => {
    const { server, registry } = await replay([REGISTER, CHECK_PASS]);
    await registry.register(INSTANCE);
    await registry.heartbeat(INSTANCE);
    expect(server.unexpected).toEqual([]);
    expect(server.received).toEqual(sent([REGISTER, CHECK_PASS]));
  });

  it('gives the agent the TTL to the millisecond', async () => {
    const server = await startConsulReplay([REGISTER]);
    replays.push(server);
    const registry = new ConsulRegistry({
      url: server.url,
      token: 'secret-token',
      ttlMs: 10_500,
      deregisterCriticalAfterSeconds: 30,
      log: pino({ level: 'silent' }),
    });
    await registry.register(INSTANCE);
    const recorded = REGISTER.request.body as { Check: object };
    expect(server.received).toEqual([
      {
        ...sent([REGISTER])[0],
        body: { ...recorded, Check: { ...recorded.Check, TTL: '10500ms' } },
      },
    ]);
  });

  it('fails the check while the instance is DOWN, and registers it critical', async () => {
    const down = { ...INSTANCE, state: 'DOWN' as const };
    const criticalRegister: Exchange = {
      request: {
        ...REGISTER.request,
        body: {
          ...(REGISTER.request.body as object),
          Check: { ...(REGISTER.request.body as { Check: object }).Check, Status: 'critical' },
        },
      },
      response: { status: 200 },
    };
    const { server, registry } = await replay([criticalRegister, CHECK_FAIL]);
    await registry.register(down);
    await registry.heartbeat(down);
    expect(server.received).toEqual(sent([criticalRegister, CHECK_FAIL]));
  });

  it('registers again when the agent no longer knows the check (404, and 500 from older agents)', async () => {
    const { server, registry } = await replay([CHECK_PASS_UNKNOWN, REGISTER, CHECK_PASS_NO_TTL, REGISTER]);
    await registry.heartbeat(INSTANCE);
    await registry.heartbeat(INSTANCE);
    expect(server.unexpected).toEqual([]);
    expect(server.remaining()).toBe(0);
  });

  it('surfaces other errors with the status and the agent’s words', async () => {
    const { registry } = await replay([CHECK_PASS_ACL_DENIED]);
    await expect(registry.heartbeat(INSTANCE)).rejects.toThrow(/answered 403: Permission denied/);
  });

  it('drains: maintenance first, then deregistration', async () => {
    const { server, registry } = await replay([MAINTENANCE_ON, DEREGISTER]);
    await registry.deregister(INSTANCE);
    expect(server.received).toEqual(sent([MAINTENANCE_ON, DEREGISTER]));
  });

  it('reads instances from the health endpoint: state from the checks, Keelson records only', async () => {
    const { registry } = await replay([HEALTH_SERVICE]);
    const found = await registry.instances('inventory');
    expect(found.map((i) => [i.id, i.state])).toEqual([
      ['inventory-1', 'READY'],
      ['inventory-2', 'DOWN'],
      ['inventory-3', 'DRAINING'],
    ]);
    expect(found[0]).toEqual(INSTANCE);
  });

  it('lists every service through the catalog', async () => {
    const { registry } = await replay([CATALOG_SERVICES, HEALTH_SERVICE_CONSUL, HEALTH_SERVICE]);
    expect((await registry.instances()).map((i) => i.id)).toEqual([
      'inventory-1',
      'inventory-2',
      'inventory-3',
    ]);
  });

  it('pings the leader endpoint: no leader is a failure', async () => {
    const { registry } = await replay([STATUS_LEADER, STATUS_NO_LEADER]);
    await expect(registry.ping()).resolves.toBeUndefined();
    await expect(registry.ping()).rejects.toThrow(/no cluster leader/);
  });

  it('watches with blocking queries and reports a changed index', async () => {
    const { server, registry } = await replay([WATCH_FIRST, WATCH_CHANGED]);
    let changes = 0;
    const stop = registry.watch('inventory', () => changes++);
    await waitFor(
      'a change',
      async () => changes,
      (n) => n === 1,
      2000,
    );
    // The third query (index 43) is held open by the agent: no further change is reported.
    await delay(100);
    stop();
    expect(changes).toBe(1);
    expect(server.received.map((r) => r.path)).toEqual([
      '/v1/health/service/inventory?index=0&wait=30s',
      '/v1/health/service/inventory?index=42&wait=30s',
      '/v1/health/service/inventory?index=43&wait=30s',
    ]);
  });

  it('as a service backend: registers on READY, heart-beats, and drains before HTTP stops', async () => {
    const server = await startConsulReplay([], { acceptAll: true });
    replays.push(server);
    const { service, url } = await startTestService({
      name: 'inventory',
      overrides: {
        registry: { backend: 'consul', consul: { url: server.url }, heartbeatMs: 50 },
        shutdown: { preStopDelayMs: 300 },
      },
    });
    await waitFor(
      'a heartbeat',
      async () => server.received.filter((r) => r.path.includes('/check/pass/')).length,
      (n) => n >= 1,
      2000,
    );
    const stopping = service.stop();
    await waitFor(
      'deregistered',
      async () => server.received.at(-1)?.path ?? '',
      (p) => p.includes('/deregister/'),
      1000,
    );
    // Out of the registry while the server still answers.
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    await stopping;
    // The agent writes, in order (the readiness checks also read /v1/status/leader in between).
    const paths = server.received
      .filter((r) => r.method === 'PUT')
      .map((r) => `${r.method} ${r.path.replace(/\?.*/, '')}`);
    const id = encodeURIComponent(service.instanceId);
    expect(paths[0]).toBe('PUT /v1/agent/service/register');
    expect(paths[1]).toBe(`PUT /v1/agent/check/pass/${encodeURIComponent(`service:${service.instanceId}`)}`);
    expect(paths.slice(-2)).toEqual([
      `PUT /v1/agent/service/maintenance/${id}`,
      `PUT /v1/agent/service/deregister/${id}`,
    ]);
  });
});
