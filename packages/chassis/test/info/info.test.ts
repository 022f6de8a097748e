import { afterEach, describe, expect, it } from 'vitest';
import { dynamicConfigPlugin } from '../../src/dynamic-config/index.js';
import { ConfigError } from '../../src/index.js';
import { infoPlugin } from '../../src/info/index.js';
import { startTestService } from '../../src/testing/index.js';

const running: { stop(): Promise<boolean> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function start(options: Parameters<typeof startTestService>[0] = {}) {
  const test = await startTestService({ version: '1.2.3', plugins: [infoPlugin], ...options });
  running.push(test.service);
  return test;
}

describe('GET /info', () => {
  it('describes what is running', async () => {
    const before = Date.now();
    const { service, url } = await start({ env: { RELEASE_ID: 'r-42', GIT_SHA: 'abc123' } });
    const response = await fetch(`${url}/info`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      name: 'test-service',
      version: '1.2.3',
      releaseId: 'r-42',
      instanceId: service.instanceId,
      startTime: expect.any(String),
      uptimeSeconds: expect.any(Number),
      nodeVersion: process.version,
      enabledPlugins: expect.any(Array),
    });
    expect(Date.parse(body.startTime as string)).toBeGreaterThanOrEqual(before - 1000);
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(body.enabledPlugins).toEqual(expect.arrayContaining(['http', 'metrics', 'health', 'info']));
  });

  it('falls back to GIT_SHA for the release, and to "" without either', async () => {
    const { url } = await start({ env: { GIT_SHA: 'abc123' } });
    expect(((await (await fetch(`${url}/info`)).json()) as { releaseId: string }).releaseId).toBe('abc123');
    const bare = await start();
    expect(((await (await fetch(`${bare.url}/info`)).json()) as { releaseId: string }).releaseId).toBe('');
  });

  it('lists only the plugins that are switched on', async () => {
    const off = await start({ plugins: [infoPlugin, dynamicConfigPlugin] });
    const offBody = (await (await fetch(`${off.url}/info`)).json()) as { enabledPlugins: string[] };
    expect(offBody.enabledPlugins).not.toContain('dynamic-config');

    const on = await start({
      plugins: [infoPlugin, dynamicConfigPlugin],
      overrides: { dynamicConfig: { enabled: true, watchFiles: false } },
    });
    const onBody = (await (await fetch(`${on.url}/info`)).json()) as { enabledPlugins: string[] };
    expect(onBody.enabledPlugins).toContain('dynamic-config');
  });

  it('lists the registered plugins in registration order, without those switched off', async () => {
    const { url } = await start();
    const body = (await (await fetch(`${url}/info`)).json()) as { enabledPlugins: string[] };
    expect(body.enabledPlugins.slice(0, 4)).toEqual(['http', 'tracing', 'metrics', 'health']);
    expect(body.enabledPlugins).toContain('info');
    expect(body.enabledPlugins).toContain('outbox');
    expect(body.enabledPlugins).not.toContain('access-tokens');
    expect(body.enabledPlugins).not.toContain('dynamic-config');
  });

  it('is in the OpenAPI document with its response schema when operational routes are described', async () => {
    const { url } = await start({ overrides: { http: { docs: { operationalRoutes: 'describe' } } } });
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, { get?: { responses: Record<string, unknown> } }>;
    };
    expect(document.paths['/info']?.get?.responses['200']).toMatchObject({
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: expect.arrayContaining(['name', 'version', 'releaseId', 'uptimeSeconds']),
            properties: { startTime: { type: 'string', format: 'date-time' } },
          },
        },
      },
    });
  });

  it('answers other methods with a problem, not a crash', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/info`, { method: 'POST', body: '{"x":' });
    expect(response.status).toBe(405);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 405, detail: 'POST is not supported on /info.' });
    expect((await fetch(`${url}/info?verbose=1`)).status).toBe(200);
  });

  it('is absent when switched off', async () => {
    const { url } = await start({ overrides: { info: { enabled: false } } });
    const response = await fetch(`${url}/info`);
    expect(response.status).toBe(404);
    expect(await (await fetch(`${url}/metrics`)).text()).not.toContain('service_release');
  });

  it('refuses a bad switch with a clear error', async () => {
    const error = await start({ env: { INFO_ENABLED: 'perhaps' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(
      '- info.enabled: not a boolean; got "perhaps" (from env INFO_ENABLED)',
    );
  });
});

describe('service_info', () => {
  it('is the one info metric, with the release as a label and no label Prometheus would rename', async () => {
    const { service, url } = await start({ env: { RELEASE_ID: 'r-42' } });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('# TYPE service_info gauge');
    expect(text).not.toContain('service_build_info');
    expect(text).toContain(
      `service_info{service_name="test-service",service_version="1.2.3",service_instance_id="${service.instanceId}",deployment_environment_name="development",process_runtime_name="nodejs",process_runtime_version="${process.versions.node}",service_release="r-42"} 1`,
    );
    expect(text).not.toMatch(/[{,](instance|job)="/);
  });
});
