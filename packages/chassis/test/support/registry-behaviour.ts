import { afterEach, describe, expect, it } from 'vitest';
import type { BuiltInConfig, Service, ServiceInstance } from '../../src/index.js';
import { startTestService } from '../../src/testing/index.js';
import { spawnFixture } from './child-service.js';
import { waitFor } from './wait.js';

/** A registry backend as the shared behavioural tests drive it. */
export interface BackendUnderTest {
  backend: 'local' | 'etcd' | 'consul';
  /** `registry.*` settings of a fresh namespace no other test sees (a directory, a key prefix). */
  settings(): Record<string, unknown>;
  /** The same settings as environment variables, for a service run as a child process. */
  env(settings: Record<string, unknown>): Record<string, string>;
  /** Removes the instance's record behind its back, as a lost lease or a wiped agent would. */
  loseRecord(settings: Record<string, unknown>, instance: ServiceInstance): Promise<void>;
}

/** Short timings so that a test sees several heartbeats and a TTL pass within seconds. */
export const FAST = { ttlMs: 2000, heartbeatMs: 250, downAfterFailures: 2 };

/** A route that answers with the instance's id, to see which instance served a call. */
const whoAmI = (s: Service<BuiltInConfig>) => {
  s.http.get('/who', async () => ({ id: s.instanceId }));
};

/**
 * The behaviour every registry backend must show, from the user's side: two services in one test
 * process (one registering, one discovering) and, for crashes and signals, a child process.
 */
export function describeRegistryBehaviour(subject: BackendUnderTest): void {
  describe(`registry behaviour: ${subject.backend}`, () => {
    const running: { service: { stop(): Promise<boolean> } }[] = [];
    afterEach(async () => {
      await Promise.all(running.splice(0).map((r) => r.service.stop()));
    });

    const start = async (
      name: string,
      settings: Record<string, unknown>,
      more: { shutdown?: object; health?: object; setup?: (service: Service<BuiltInConfig>) => void } = {},
    ) => {
      const started = await startTestService({
        name,
        overrides: {
          registry: settings,
          ...(more.shutdown ? { shutdown: more.shutdown } : {}),
          ...(more.health ? { health: more.health } : {}),
        },
        ...(more.setup ? { setup: more.setup } : {}),
      });
      running.push(started);
      return started;
    };

    it('registers once READY, with its record, visible to a second service within one second', async () => {
      const settings = { ...subject.settings(), tags: ['blue'], metadata: { zone: 'a' } };
      const caller = await start('caller', settings);
      expect(await caller.service.discovery.instances('inventory')).toEqual([]);

      const inventory = await start('inventory', settings);
      // The waiting bound is the requirement: seen within one second.
      const { value } = await waitFor(
        'inventory visible to the caller',
        () => caller.service.discovery.instances('inventory'),
        (found) => found.length === 1,
        1000,
      );
      const port = Number(new URL(inventory.url).port);
      expect(value[0]).toMatchObject({
        service: 'inventory',
        id: inventory.service.instanceId,
        url: inventory.url,
        address: '127.0.0.1',
        port,
        version: inventory.service.version,
        state: 'READY',
        healthUrl: `${inventory.url}/health/ready`,
        metricsUrl: `${inventory.url}/metrics`,
        tags: ['blue'],
        metadata: { zone: 'a' },
      });
      const metrics = await fetch(`${inventory.url}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/^registry_registered 1$/m);
    });

    it('an instance leaving while callers use it through discovery: 0 failed calls, retries off', async () => {
      const settings = subject.settings();
      const leaving = await start('stock', settings, { setup: whoAmI });
      const staying = await start('stock', settings, { setup: whoAmI });
      const caller = await startTestService({
        name: 'caller',
        clients: { stock: {} },
        overrides: { registry: settings, clients: { stock: { retry: { attempts: 0 } } } },
      });
      running.push(caller);
      await waitFor(
        'two instances',
        () => caller.service.discovery.instances('stock'),
        (f) => f.length === 2,
        2000,
      );
      const client = caller.service.clients.http('stock');
      const failures: string[] = [];
      const served = new Map<string, number>();
      let stop = false;
      const callerLoop = async () => {
        for (let i = 0; i < 20_000 && !stop; i++) {
          try {
            const response = await client.get<{ id: string }>('/who');
            if (response.status !== 200) failures.push(`status ${response.status}`);
            else served.set(response.body.id, (served.get(response.body.id) ?? 0) + 1);
          } catch (error) {
            failures.push(String(error));
          }
        }
      };
      const loops = Array.from({ length: 10 }, callerLoop);
      const count = (id: string) => async () => served.get(id) ?? 0;
      // Both instances in use before the shutdown, and the staying one still serving after it.
      await waitFor('calls to both', count(leaving.service.instanceId), (n) => n >= 20, 5000);
      await waitFor('calls to both', count(staying.service.instanceId), (n) => n >= 20, 5000);
      expect(await leaving.service.stop()).toBe(true);
      const after = (served.get(staying.service.instanceId) ?? 0) + 20;
      await waitFor('calls after', count(staying.service.instanceId), (n) => n >= after, 5000);
      stop = true;
      await Promise.all(loops);
      expect(failures).toEqual([]);
    });

    it('svc.clients.http(name) finds live instances through discovery, round robin', async () => {
      const settings = subject.settings();
      const one = await start('stock', settings, { setup: whoAmI });
      const two = await start('stock', settings, { setup: whoAmI });
      const caller = await start('caller', settings);
      await waitFor(
        'two instances',
        () => caller.service.discovery.instances('stock'),
        (f) => f.length === 2,
        2000,
      );

      const client = caller.service.clients.http('stock');
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await client.get<{ id: string }>('/who');
        seen.push(response.body.id);
      }
      const ids = [one.service.instanceId, two.service.instanceId];
      expect(new Set(seen)).toEqual(new Set(ids));
      expect(seen[0]).not.toBe(seen[1]);
      expect(seen[0]).toBe(seen[2]);

      await expect(
        client.get('/who').then(() => caller.service.clients.http('absent').get('/')),
      ).rejects.toThrow(`no READY instance of "absent" in the ${subject.backend} registry`);
    });

    it('failing readiness marks the instance DOWN after the hysteresis, and READY again', async () => {
      const settings = { ...subject.settings(), ...FAST };
      let healthy = true;
      let failedChecks = 0;
      const flaky = await start('flaky', settings, {
        // Every heartbeat runs the check itself, so that failed checks count heartbeats.
        health: { cacheMs: 0 },
        setup: (s) =>
          s.health.add({
            name: 'inventory-db',
            check: async () => {
              if (healthy) return;
              failedChecks++;
              throw new Error('database unreachable');
            },
          }),
      });
      const caller = await start('caller', settings);
      await waitFor(
        'READY',
        () => caller.service.discovery.instances('flaky'),
        (f) => f.length === 1,
        2000,
      );

      healthy = false;
      await waitFor(
        'DOWN',
        () => caller.service.discovery.all(),
        (all) => all.find((i) => i.id === flaky.service.instanceId)?.state === 'DOWN',
        5000,
      );
      // Hysteresis: marked down only after `downAfterFailures` heartbeats saw the failure.
      expect(failedChecks).toBeGreaterThanOrEqual(FAST.downAfterFailures);
      await waitFor(
        'no callable instance',
        () => caller.service.discovery.instances('flaky'),
        (f) => f.length === 0,
        2000,
      );

      healthy = true;
      await waitFor(
        'READY again',
        () => caller.service.discovery.instances('flaky'),
        (f) => f.length === 1,
        5000,
      );
    });

    it('a lost record is written again by the next heartbeat', async () => {
      const settings = { ...subject.settings(), ...FAST };
      const lost = await start('lost', settings);
      const caller = await start('caller', settings);
      const [instance] = (
        await waitFor(
          'registered',
          () => caller.service.discovery.instances('lost'),
          (f) => f.length === 1,
          2000,
        )
      ).value;
      await subject.loseRecord(settings, instance as ServiceInstance);
      await waitFor(
        'gone',
        () => caller.service.discovery.all(),
        (all) => all.every((i) => i.id !== lost.service.instanceId),
        2000,
      );
      await waitFor(
        'back',
        () => caller.service.discovery.instances('lost'),
        (f) => f.length === 1,
        5000,
      );
    });

    it('stop: the instance leaves the registry before the HTTP server stops accepting', async () => {
      const settings = subject.settings();
      const leaving = await start('leaving', settings, { shutdown: { preStopDelayMs: 1500 } });
      const caller = await start('caller', settings);
      await waitFor(
        'registered',
        () => caller.service.discovery.instances('leaving'),
        (f) => f.length === 1,
        2000,
      );

      const stopped = leaving.service.stop();
      await waitFor(
        'deregistered',
        () => caller.service.discovery.all(),
        (all) => all.every((i) => i.service !== 'leaving'),
        1000,
      );
      // Gone from the registry while the server still answers: callers stop coming before it closes.
      expect((await fetch(`${leaving.url}/health/live`)).status).toBe(200);
      expect(await stopped).toBe(true);
    });

    it('SIGTERM deregisters before the server closes; SIGKILL disappears within the TTL', async () => {
      const settings = { ...subject.settings(), ...FAST };
      const caller = await start('caller', settings);
      const env = { ...subject.env(settings), SHUTDOWN_PRE_STOP_DELAY_MS: '1000' };

      const terminated = await spawnFixture('slow-service.ts', env);
      await waitFor(
        'child registered',
        () => caller.service.discovery.instances('slow'),
        (f) => f.length === 1,
        3000,
      );
      terminated.child.kill('SIGTERM');
      await waitFor(
        'child deregistered',
        () => caller.service.discovery.all(),
        (all) => all.length === 0 || all.every((i) => i.service !== 'slow'),
        1000,
      );
      expect((await fetch(`${terminated.url}/health/live`)).status).toBe(200);
      expect((await terminated.exit).code).toBe(0);

      const killed = await spawnFixture('slow-service.ts', env);
      await waitFor(
        'child registered',
        () => caller.service.discovery.instances('slow'),
        (f) => f.length === 1,
        3000,
      );
      killed.child.kill('SIGKILL');
      await killed.exit;
      // The waiting bound is the requirement: gone within the TTL (and the expiry check's interval).
      await waitFor(
        'killed child gone',
        () => caller.service.discovery.all(),
        (all) => all.every((i) => i.service !== 'slow'),
        FAST.ttlMs + 3000,
      );
    });
  });
}
