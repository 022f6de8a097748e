import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createService, definePlugin, HEALTH_CONTENT_TYPE, type Service } from '../src/index.js';
import { LogCapture, startTestService } from '../src/testing/index.js';

const running: Pick<Service, 'stop'>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

interface HealthBody {
  status: string;
  version: string;
  serviceId: string;
  description: string;
  checks: Record<string, { status: string; output?: string; observedValue?: unknown }[]>;
}

async function health(url: string, path: string): Promise<{ status: number; body: HealthBody }> {
  const response = await fetch(`${url}${path}`);
  expect(response.headers.get('content-type')).toBe(HEALTH_CONTENT_TYPE);
  return { status: response.status, body: (await response.json()) as HealthBody };
}

describe('health endpoints', () => {
  it('are all 200 with the health+json shape when READY and nothing is registered', async () => {
    const { service, url } = await startTestService({
      env: { SERVICE_VERSION: '1.2.3', SERVICE_INSTANCE_ID: 'i-1' },
    });
    running.push(service);
    for (const path of ['/health/live', '/health/ready', '/health/startup']) {
      const { status, body } = await health(url, path);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        status: 'pass',
        version: '1.2.3',
        serviceId: 'i-1',
        description: 'test-service',
      });
      expect(body.checks.lifecycle?.[0]?.observedValue).toBe('READY');
    }
  });

  it('turns ready 503 when a critical indicator fails, and only warns for a non-critical one', async () => {
    let dbUp = true;
    const { service, url } = await startTestService({
      overrides: { health: { cacheMs: 0 } },
      setup(svc) {
        svc.health.add({
          name: 'db',
          check: () =>
            dbUp
              ? { observedValue: 3, observedUnit: 'ms' }
              : { status: 'fail', output: 'connection refused' },
        });
        svc.health.add({
          name: 'odd',
          critical: false,
          check: () => Promise.reject(null),
        });
        svc.health.add({
          name: 'cache',
          critical: false,
          check: () => {
            throw new Error('cache down');
          },
        });
      },
    });
    running.push(service);
    let ready = await health(url, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('warn');
    expect(ready.body.checks.cache?.[0]).toMatchObject({ status: 'fail', output: 'cache down' });
    expect(ready.body.checks.odd?.[0]).toMatchObject({ status: 'fail', output: 'null' });
    dbUp = false;
    ready = await health(url, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.db?.[0]).toMatchObject({ status: 'fail', output: 'connection refused' });
    // Liveness never looks at dependencies.
    expect((await health(url, '/health/live')).status).toBe(200);
  });

  it('fails an indicator that exceeds its timeout and aborts its signal', async () => {
    let aborted = false;
    const { service, url } = await startTestService({
      setup(svc) {
        svc.health.add({
          name: 'slow',
          timeoutMs: 30,
          check: (signal) =>
            new Promise((resolve) => {
              signal.addEventListener('abort', () => {
                aborted = true;
              });
              setTimeout(resolve, 1000);
            }),
        });
      },
    });
    running.push(service);
    const { status, body } = await health(url, '/health/ready');
    expect(status).toBe(503);
    expect(body.checks.slow?.[0]?.output).toBe('timed out after 30 ms');
    expect(aborted).toBe(true);
  });

  it('runs indicators in parallel, once per cache window, however many probes arrive', async () => {
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const { service, url } = await startTestService({
      overrides: { health: { cacheMs: 60000 } },
      setup(svc) {
        for (const name of ['a', 'b', 'c']) {
          svc.health.add({
            name,
            check: async () => {
              calls++;
              maxInFlight = Math.max(maxInFlight, ++inFlight);
              await delay(50);
              inFlight--;
            },
          });
        }
      },
    });
    running.push(service);
    const results = await Promise.all(Array.from({ length: 20 }, () => health(url, '/health/ready')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(calls).toBe(3);
    expect(maxInFlight).toBe(3);
  });

  it('reports not ready and not started while STARTING, ready 503 while DRAINING', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let drainingReady: number | undefined;
    let drainingLive: number | undefined;
    let url = '';
    const probe = definePlugin({
      name: 'probe',
      dependencies: ['http'],
      register(ctx) {
        ctx.onStart(() => gate);
        ctx.onStop(
          async () => {
            drainingReady = (await fetch(`${url}/health/ready`)).status;
            drainingLive = (await fetch(`${url}/health/live`)).status;
          },
          { phase: 'deregister' },
        );
      },
    });
    const service = await createService({
      name: 'x',
      env: {},
      argv: [],
      configDir: '/nonexistent',
      handleProcess: false,
      logDestination: new LogCapture(),
      overrides: { http: { port: 0, host: '127.0.0.1' } },
      plugins: [probe],
    });
    const started = service.start();
    while (!service.http.server.listening) await delay(5);
    url = `http://127.0.0.1:${(service.http.server.address() as { port: number }).port}`;
    expect((await health(url, '/health/ready')).status).toBe(503);
    expect((await health(url, '/health/startup')).status).toBe(503);
    expect((await health(url, '/health/live')).status).toBe(200);
    release();
    await started;
    expect((await health(url, '/health/startup')).status).toBe(200);
    await service.stop();
    expect(drainingReady).toBe(503);
    expect(drainingLive).toBe(200);
  });
});
