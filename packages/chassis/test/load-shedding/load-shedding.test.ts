import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import type { Service } from '../../src/index.js';
import { loadSheddingPlugin } from '../../src/load-shedding/index.js';
import { startTestService } from '../../src/testing/index.js';

const running: Pick<Service, 'stop'>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A GET on a connection of its own (node:http, no agent): a pooling client keeps spare
 * connections open that would hold the server's shutdown up, and the tests want one request per
 * connection anyway, so that aborting one touches no other.
 */
function get(url: string, path: string, signal?: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { agent: false, signal }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

const status = async (url: string, path: string) => (await get(url, path)).status;

/** A route whose requests wait until the test lets them go, to hold the in-flight count deterministically. */
function gate() {
  let entered = () => {};
  const inside = new Promise<void>((resolve) => {
    entered = resolve;
  });
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const handler = async () => {
    entered();
    await opened;
    return { done: true };
  };
  return { inside, open, handler };
}

/** Polls until `check` holds, at most `attempts` times: a bounded wait, not a timing assertion. */
async function eventually(check: () => Promise<boolean> | boolean, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await delay(25);
  }
  throw new Error('condition not reached');
}

async function start(
  loadShedding: Record<string, unknown>,
  extra: Parameters<typeof startTestService>[0] = {},
) {
  const slow = gate();
  const started = await startTestService({
    plugins: [loadSheddingPlugin],
    ...extra,
    overrides: {
      health: { cacheMs: 0 },
      ...extra.overrides,
      // Only the limit a test sets: a busy machine must not trip the event-loop or memory defaults.
      loadShedding: {
        enabled: true,
        sampleIntervalMs: 50,
        maxEventLoopDelayMs: 0,
        maxEventLoopUtilization: 0,
        maxHeapUsedBytes: 0,
        maxRssBytes: 0,
        ...loadShedding,
      },
    },
    setup(svc) {
      svc.http.get('/slow', slow.handler);
      svc.http.get('/fast', async () => ({ ok: true }));
      svc.http.get('/admin', { config: { loadShedding: false } }, async () => ({ ok: true }));
    },
  });
  running.push(started.service);
  return { ...started, slow };
}

describe('load shedding', () => {
  it('refuses with 503 problem+json and Retry-After while saturated, then serves again', async () => {
    const { url, slow, logs } = await start({ maxInFlight: 1, retryAfterSeconds: 7 });
    const held = get(url, '/slow');
    await slow.inside;

    const refused = await get(url, '/fast?x=1');
    expect(refused.status).toBe(503);
    expect(refused.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(refused.headers['retry-after']).toBe('7');
    expect(JSON.parse(refused.body)).toEqual({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The service is overloaded and refuses some requests; retry in 7 s.',
      instance: '/fast?x=1',
      requestId: refused.headers['x-request-id'],
    });

    // Probes, scrapes and routes that opt out are never refused.
    expect(await status(url, '/health/live')).toBe(200);
    expect(await status(url, '/admin')).toBe(200);
    const ready = await get(url, '/health/ready');
    expect(ready.status).toBe(200);
    const body = JSON.parse(ready.body) as {
      status: string;
      checks: Record<string, Record<string, unknown>[]>;
    };
    expect(body.status).toBe('warn');
    expect(body.checks['load-shedding']?.[0]).toMatchObject({
      status: 'warn',
      critical: false,
      output: 'shedding: 1 requests in flight, limit 1',
      observedValue: 1,
    });
    const metrics = (await get(url, '/metrics')).body;
    expect(metrics).toMatch(/^load_shedding_active 1$/m);
    expect(metrics).toMatch(/^load_shedding_rejected_total\{reason="in_flight"\} 1$/m);
    expect(logs.find('load shedding started: 1 requests in flight, limit 1')).toHaveLength(1);

    slow.open();
    expect((await held).status).toBe(200);
    expect(await status(url, '/fast')).toBe(200);
    const after = JSON.parse((await get(url, '/health/ready')).body) as typeof body;
    expect(after.checks['load-shedding']?.[0]?.status).toBe('pass');
    await eventually(() => logs.find('load shedding stopped after refusing 1 requests').length === 1);
    expect((await get(url, '/metrics')).body).toMatch(/^load_shedding_active 0$/m);
    // A bound for a busy CI machine: under-pressure samples the event loop on its own timer.
  }, 60_000);

  it('stops counting a request whose client went away', async () => {
    const { url, slow } = await start({ maxInFlight: 1 });
    const abort = new AbortController();
    const held = get(url, '/slow', abort.signal).catch(() => 'aborted');
    await slow.inside;
    expect(await status(url, '/fast')).toBe(503);
    abort.abort();
    expect(await held).toBe('aborted');
    await eventually(async () => (await status(url, '/fast')) === 200);
    slow.open();
  }, 60_000);

  it('switches on from the environment alone', async () => {
    const slow = gate();
    const { service, url } = await startTestService({
      plugins: [loadSheddingPlugin],
      env: { LOAD_SHEDDING_ENABLED: 'true', LOAD_SHEDDING_MAX_IN_FLIGHT: '1' },
      setup(svc) {
        svc.http.get('/slow', slow.handler);
        svc.http.get('/fast', async () => 'ok');
      },
    });
    running.push(service);
    const held = get(url, '/slow');
    await slow.inside;
    expect(await status(url, '/fast')).toBe(503);
    slow.open();
    expect((await held).status).toBe(200);
  });

  it('does nothing when not enabled', async () => {
    const slow = gate();
    const { service, url } = await startTestService({
      plugins: [loadSheddingPlugin],
      overrides: { loadShedding: { maxInFlight: 1 } },
      setup(svc) {
        svc.http.get('/slow', slow.handler);
        svc.http.get('/fast', async () => 'ok');
      },
    });
    running.push(service);
    const held = get(url, '/slow');
    await slow.inside;
    expect(await status(url, '/fast')).toBe(200);
    slow.open();
    expect((await held).status).toBe(200);
    expect((await get(url, '/metrics')).body).not.toContain('load_shedding');
  });

  it('refuses absurd settings at startup, naming every key', async () => {
    const attempt = async (loadShedding: Record<string, unknown>, env: Record<string, string> = {}) => {
      try {
        const started = await startTestService({
          plugins: [loadSheddingPlugin],
          env,
          overrides: { loadShedding: { enabled: true, ...loadShedding } },
        });
        running.push(started.service);
      } catch (error) {
        return error as Error;
      }
      throw new Error('the service started');
    };

    const invalid = await attempt({
      maxEventLoopDelayMs: -1,
      maxEventLoopUtilization: 1.5,
      maxHeapUsedBytes: 100,
      maxInFlight: 2.5,
      retryAfterSeconds: 0,
      sampleIntervalMs: 1,
    });
    expect(invalid).toBeInstanceOf(ConfigError);
    for (const key of [
      'maxEventLoopDelayMs',
      'maxEventLoopUtilization',
      'maxHeapUsedBytes',
      'maxInFlight',
      'retryAfterSeconds',
      'sampleIntervalMs',
    ])
      expect(invalid.message).toContain(`loadShedding.${key}:`);

    const fromEnv = await attempt(
      {},
      { LOAD_SHEDDING_MAX_RSS_BYTES: 'a lot', LOAD_SHEDDING_MAX_EVENT_LOOP_UTILIZATION: '1' },
    );
    expect(fromEnv.message).toMatch(/loadShedding\.maxRssBytes: .*env LOAD_SHEDDING_MAX_RSS_BYTES/);
    expect(fromEnv.message).toMatch(/loadShedding\.maxEventLoopUtilization: .*1 excluded/);

    const nothingToWatch = await attempt({ maxEventLoopDelayMs: 0 });
    expect(nothingToWatch.message).toMatch(/loadShedding\.enabled: shedding is on but every limit is 0/);
    expect(nothingToWatch).toBeInstanceOf(ConfigError);

    // Any Node.js process is over 2 MiB of resident memory: every request would be refused.
    const alreadyOver = await attempt({ maxRssBytes: 2 * 1024 * 1024 });
    expect(alreadyOver.message).toMatch(
      /loadShedding\.maxRssBytes: the process is already over it at startup \(resident set [\d.]+ MiB > 2\.0 MiB\)/,
    );
  });
});
