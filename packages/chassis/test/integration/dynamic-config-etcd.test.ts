// Integration test: needs the real etcd that the default vitest config's global setup starts
// (`npx vitest run test/integration/dynamic-config-etcd.test.ts`).
import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type Server } from 'node:net';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { ConfigChange } from '../../src/config/index.js';
import { dynamicConfigPlugin } from '../../src/dynamic-config/index.js';
import { startTestService } from '../../src/testing/index.js';
import { seriesValue } from '../dynamic-config/support.js';
import { freePort } from '../support/ports.js';
import { waitUntil } from '../support/wait.js';

const etcdUrl = inject('etcdUrl');
const etcd = new Etcd3({ hosts: [etcdUrl] });
afterAll(() => etcd.close());

const running: { stop(): Promise<boolean> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

describe('dynamic configuration from etcd (integration)', () => {
  it('applies the keys under <prefix>/config/<service>/ at start and on every change', async () => {
    const prefix = `/keelson-test/${randomUUID()}`;
    const keys = `${prefix}/config/test-service/`;
    await etcd.put(`${keys}greeting`).value('"from etcd at start"');

    const changes: ConfigChange[] = [];
    const { service, url, logs } = await startTestService({
      config: { greeting: { doc: 'Greeting.', format: String, default: 'hello', reloadable: true } },
      plugins: [dynamicConfigPlugin],
      overrides: {
        dynamicConfig: {
          enabled: true,
          watchFiles: false,
          debounceMs: 20,
          etcd: { enabled: true, prefix, endpoints: [etcdUrl] },
        },
      },
      setup: (svc) => void svc.config.onChange((batch) => void changes.push(...batch)),
    });
    running.push(service);
    const metrics = async () => (await fetch(`${url}/metrics`)).text();

    // Read before the service turned READY.
    expect(service.config.get('greeting')).toBe('from etcd at start');
    expect(service.config.explain().find((e) => e.key === 'greeting')?.origin).toBe(`etcd ${keys}greeting`);

    await etcd.put(`${keys}log.level`).value('"debug"');
    await waitUntil('log.level from etcd', () => service.config.get('log.level') === 'debug');
    expect(changes).toContainEqual({ key: 'log.level', from: 'info', to: 'debug' });
    expect(service.log.isLevelEnabled('debug')).toBe(true);
    expect(logs.find('configuration reloaded from etcd: log.level changed')[0]).toMatchObject({
      origin: 'etcd',
    });

    // Not JSON: rejected, and nothing changes.
    await etcd.put(`${keys}greeting`).value('unquoted');
    await waitUntil('the rejection', () => logs.find('rejected').length > 0);
    expect(logs.find('rejected')[0]?.msg).toContain(`greeting: invalid JSON`);
    expect(service.config.get('greeting')).toBe('from etcd at start');
    expect(
      seriesValue(await metrics(), 'config_reload_failures_total{origin="etcd"}'),
    ).toBeGreaterThanOrEqual(1);

    // A key that is not reloadable is reported, not applied.
    await etcd.put(`${keys}greeting`).value('"fixed"');
    await etcd.put(`${keys}http.bodyLimit`).value('1');
    await waitUntil('the report', () => logs.find('etcd sets reloadable keys only').length > 0);
    expect(service.config.get('http.bodyLimit')).toBe(1048576);

    // Deleting the keys falls back to the files, code and defaults.
    await etcd.delete().prefix(keys);
    await waitUntil('the fallback', () => service.config.get('greeting') === 'hello');
    expect(service.config.get('log.level')).toBe('info');
    expect(service.log.isLevelEnabled('debug')).toBe(false);

    const ready = (await (await fetch(`${url}/health/ready`)).json()) as {
      checks: Record<string, { status: string }[]>;
    };
    expect(ready.checks['dynamic-config:etcd']?.[0]?.status).toBe('pass');
    expect(seriesValue(await metrics(), 'config_reloads_total{origin="etcd"}')).toBeGreaterThanOrEqual(3);
  });

  it('catches up once etcd becomes reachable after the start', async () => {
    const prefix = `/keelson-test/${randomUUID()}`;
    const port = await freePort();
    const { service, logs } = await startTestService({
      config: { greeting: { doc: 'Greeting.', format: String, default: 'hello', reloadable: true } },
      plugins: [dynamicConfigPlugin],
      overrides: {
        dynamicConfig: {
          enabled: true,
          watchFiles: false,
          debounceMs: 20,
          etcd: { enabled: true, prefix, endpoints: [`http://127.0.0.1:${port}`] },
        },
      },
    });
    running.push(service);
    expect(logs.find('reading the configuration from etcd failed')).toHaveLength(1);

    await etcd.put(`${prefix}/config/test-service/greeting`).value('"late"');
    // etcd "comes back": a loopback proxy to the real server on the port the service dials.
    const proxy = await forward(port, new URL(etcdUrl));
    try {
      // The client retries with a backoff that grows to about ten seconds.
      await waitUntil('the late value', () => service.config.get('greeting') === 'late', 25_000);
    } finally {
      proxy.close();
    }
  }, 40_000);
});

function forward(port: number, target: URL): Promise<Server> {
  const server = createServer((socket) => {
    const upstream = createConnection(Number(target.port), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}
