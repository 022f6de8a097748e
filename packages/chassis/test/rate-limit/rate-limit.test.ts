import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import type { Service } from '../../src/index.js';
import { type RateLimitStoreConstructor, rateLimitPlugin } from '../../src/rate-limit/index.js';
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

/** A GET through node:http, which can pick the local address (127.0.0.x are distinct clients). */
function get(
  url: string,
  path: string,
  options: { headers?: Record<string, string>; from?: string } = {},
): Promise<Answer> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: options.headers,
        localAddress: options.from ?? '127.0.0.1',
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function statuses(url: string, path: string, count: number, options?: Parameters<typeof get>[2]) {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) seen.push((await get(url, path, options)).status);
  return seen;
}

async function start(rateLimit: Record<string, unknown>, extra: Parameters<typeof startTestService>[0] = {}) {
  const started = await startTestService({
    plugins: [rateLimitPlugin()],
    ...extra,
    overrides: { ...extra.overrides, rateLimit: { enabled: true, ...rateLimit } },
    setup(svc) {
      svc.http.get('/things', async () => ({ ok: true }));
      svc.http.get('/other', async () => ({ ok: true }));
      return extra.setup?.(svc);
    },
  });
  running.push(started.service);
  return started;
}

describe('rate limiting', () => {
  it('answers 429 as problem+json with Retry-After and RateLimit-* headers once the limit is reached', async () => {
    const { url } = await start({ max: 2, windowMs: 60_000 });
    const first = await get(url, '/things');
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-limit']).toBe('2');
    expect(first.headers['ratelimit-remaining']).toBe('1');
    expect(Number(first.headers['ratelimit-reset'])).toBeGreaterThan(0);
    expect((await get(url, '/things')).headers['ratelimit-remaining']).toBe('0');

    const refused = await get(url, '/things?page=2');
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const reset = Number(refused.headers['ratelimit-reset']);
    expect(reset).toBeGreaterThan(0);
    expect(reset).toBeLessThanOrEqual(60);
    expect(refused.headers['retry-after']).toBe(String(reset));
    expect(refused.headers['ratelimit-limit']).toBe('2');
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    const body = JSON.parse(refused.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      instance: '/things?page=2',
      requestId: refused.headers['x-request-id'],
    });
    expect(body.detail).toBe(`Rate limit of 2 requests per window exceeded; retry in ${reset} s.`);

    // The budget is per client, shared by every route without a limit of its own.
    expect((await get(url, '/other')).status).toBe(429);
    const metrics = (await get(url, '/metrics')).body;
    expect(metrics).toMatch(/^http_rate_limited_total\{route="\/things"\} 1$/m);
    expect(metrics).toMatch(/^http_rate_limited_total\{route="\/other"\} 1$/m);
  });

  it('counts client addresses apart', async () => {
    const { url } = await start({ max: 1 });
    expect(await statuses(url, '/things', 2, { from: '127.0.0.1' })).toEqual([200, 429]);
    expect(await statuses(url, '/things', 2, { from: '127.0.0.2' })).toEqual([200, 429]);
  });

  it('counts header keys apart, and falls back to the address for a missing or empty key', async () => {
    const { url } = await start({ max: 1, key: 'header', keyHeader: 'X-Api-Key' });
    expect(await statuses(url, '/things', 2, { headers: { 'x-api-key': 'alpha' } })).toEqual([200, 429]);
    expect(await statuses(url, '/things', 1, { headers: { 'x-api-key': 'beta' } })).toEqual([200]);
    // No key: the address is the client, counted apart from the keys it also sent.
    expect(await statuses(url, '/things', 1)).toEqual([200]);
    expect(await statuses(url, '/things', 1, { headers: { 'x-api-key': '' } })).toEqual([429]);
    expect(await statuses(url, '/things', 1, { headers: { 'x-api-key': '   ' } })).toEqual([429]);
    // A key that spells an address is still a key, not that address.
    expect(await statuses(url, '/things', 1, { headers: { 'x-api-key': '127.0.0.1' } })).toEqual([200]);
  });

  it('survives huge and odd key headers: each is a client of its own, kept by its hash', async () => {
    const { url, service } = await start({ max: 1, key: 'header' });
    const huge = 'k'.repeat(12_000);
    expect(await statuses(url, '/things', 2, { headers: { 'x-api-key': huge } })).toEqual([200, 429]);
    expect(await statuses(url, '/things', 1, { headers: { 'x-api-key': `${huge}x` } })).toEqual([200]);
    expect(await statuses(url, '/things', 1, { headers: { 'x-api-key': '%00\u00ff;,"' } })).toEqual([200]);
    // Beyond the server's header limit the request is refused by Node itself, and the service lives on.
    expect((await get(url, '/things', { headers: { 'x-api-key': 'z'.repeat(20_000) } })).status).toBe(431);
    expect((await get(url, '/health/live')).status).toBe(200);
    expect(service.state).toBe('READY');
  });

  it('counts the authenticated subject when there is one, the address otherwise', async () => {
    const { url } = await start(
      { max: 1, key: 'subject' },
      {
        setup(svc) {
          // What the access-tokens plugin does: a principal on the request, from an onRequest hook.
          svc.http.decorateRequest('principal', undefined);
          svc.http.addHook('onRequest', async (request) => {
            const user = request.headers['x-user'];
            if (typeof user === 'string')
              (request as unknown as { principal: unknown }).principal = { subject: user };
          });
        },
      },
    );
    expect(await statuses(url, '/things', 2, { headers: { 'x-user': 'ann' } })).toEqual([200, 429]);
    expect(await statuses(url, '/things', 1, { headers: { 'x-user': 'bob' } })).toEqual([200]);
    expect(await statuses(url, '/things', 2)).toEqual([200, 429]);
  });

  it("applies a route's own limit, and none on a route that opts out", async () => {
    const { url } = await start(
      { max: 100 },
      {
        setup(svc) {
          svc.http.post(
            '/login',
            { config: { rateLimit: { max: 1, timeWindow: 60_000 } } },
            async () => 'ok',
          );
          svc.http.get(
            '/login-form',
            { config: { rateLimit: { max: 2, timeWindow: '1 minute' } } },
            async () => 'ok',
          );
          svc.http.get('/open', { config: { rateLimit: false } }, async () => 'ok');
        },
      },
    );
    const post = async () => (await fetch(`${url}/login`, { method: 'POST' })).status;
    expect([await post(), await post()]).toEqual([200, 429]);
    expect(await statuses(url, '/login-form', 3)).toEqual([200, 200, 429]);
    // The route's own counter does not touch the global budget.
    const global = await get(url, '/things');
    expect(global.status).toBe(200);
    expect(global.headers['ratelimit-limit']).toBe('100');
    const open = await get(url, '/open');
    expect(open.headers['ratelimit-limit']).toBeUndefined();
  });

  it('never limits allow-listed addresses', async () => {
    const { url } = await start({ max: 1, allowList: ['127.0.0.2', '10.0.0.0/8'] });
    expect(await statuses(url, '/things', 3, { from: '127.0.0.2' })).toEqual([200, 200, 200]);
    expect(await statuses(url, '/things', 2, { from: '127.0.0.1' })).toEqual([200, 429]);
  });

  it('takes the allow list as a comma-separated env variable', async () => {
    const { url } = await start({ max: 1 }, { env: { RATE_LIMIT_ALLOW_LIST: ' 127.0.0.3/32 , ::1' } });
    expect(await statuses(url, '/things', 2, { from: '127.0.0.3' })).toEqual([200, 200]);
  });

  it('never limits health and metrics endpoints', async () => {
    const { url } = await start({ max: 1 });
    expect(await statuses(url, '/things', 2)).toEqual([200, 429]);
    for (const path of ['/health/live', '/health/ready', '/health/startup', '/metrics']) {
      const answers = await statuses(url, path, 3);
      expect(answers, path).toEqual([200, 200, 200]);
    }
  });

  it('does nothing when not enabled', async () => {
    const { url, service } = await startTestService({
      plugins: [rateLimitPlugin()],
      overrides: { rateLimit: { max: 1 } },
      setup: (svc) => void svc.http.get('/things', async () => 'ok'),
    });
    running.push(service);
    const answers = await Promise.all([get(url, '/things'), get(url, '/things')]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers[0]?.headers['ratelimit-limit']).toBeUndefined();
    expect((await get(url, '/metrics')).body).not.toContain('http_rate_limited_total');
  });

  it('switches on from the environment alone', async () => {
    const { url } = await start({}, { env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '1' } });
    expect(await statuses(url, '/things', 2)).toEqual([200, 429]);
  });

  it('refuses absurd settings at startup, naming every key', async () => {
    const attempt = (rateLimit: Record<string, unknown>, env: Record<string, string> = {}) =>
      startTestService({
        plugins: [rateLimitPlugin()],
        env,
        overrides: { rateLimit: { enabled: true, ...rateLimit } },
      });

    const error = await attempt({
      max: 0,
      windowMs: -5,
      cacheSize: 1.5,
      keyHeader: 'x api key',
      allowList: ['127.0.0.1', 'localhost', '10.0.0.0/33'],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const key of ['rateLimit.max', 'rateLimit.windowMs', 'rateLimit.cacheSize', 'rateLimit.keyHeader'])
      expect(message).toContain(`${key}:`);
    expect(message).toMatch(/rateLimit\.allowList: .*"localhost", "10\.0\.0\.0\/33"/);

    const fromEnv = await attempt(
      {},
      { RATE_LIMIT_WINDOW_MS: '0', RATE_LIMIT_MAX: 'lots', RATE_LIMIT_KEY: 'cookie' },
    ).catch((e: unknown) => e);
    expect((fromEnv as Error).message).toMatch(/rateLimit\.windowMs: .*env RATE_LIMIT_WINDOW_MS/);
    expect((fromEnv as Error).message).toMatch(/rateLimit\.max: .*env RATE_LIMIT_MAX/);
    expect((fromEnv as Error).message).toMatch(/rateLimit\.key: .*"ip", "subject", "header"/);
  });

  it('refuses a route limit that makes no sense when the route is declared', async () => {
    const declared = start(
      {},
      { setup: (svc) => void svc.http.get('/bad', { config: { rateLimit: { max: 0 } } }, async () => 'x') },
    );
    await expect(declared).rejects.toThrow(
      /Route GET \/bad: config\.rateLimit\.max must be an integer ≥ 1, got 0/,
    );
  });

  it('lets requests through when a custom store fails, and counts the failures', async () => {
    const counts = new Map<string, number>();
    let broken = false;
    // A store with the package's interface; `broken` stands for a shared store going away.
    function MapStore(this: object) {}
    MapStore.prototype.incr = (
      key: string,
      cb: (e: Error | null, r?: { current: number; ttl: number }) => void,
      window: number,
    ) => {
      if (broken) return cb(new Error('store unreachable'));
      const current = (counts.get(key) ?? 0) + 1;
      counts.set(key, current);
      cb(null, { current, ttl: window });
    };
    MapStore.prototype.child = function child() {
      return this;
    };
    const { url, service, logs } = await startTestService({
      plugins: [rateLimitPlugin({ store: MapStore as unknown as RateLimitStoreConstructor })],
      overrides: { rateLimit: { enabled: true, max: 1 } },
      setup: (svc) => void svc.http.get('/things', async () => 'ok'),
    });
    running.push(service);
    expect(await statuses(url, '/things', 2)).toEqual([200, 429]);
    expect(counts.get('127.0.0.1')).toBe(2);

    broken = true;
    expect(await statuses(url, '/things', 2)).toEqual([200, 200]);
    expect((await get(url, '/metrics')).body).toMatch(/^http_rate_limit_store_errors_total 2$/m);
    expect(logs.find('rate-limit store failed')).toHaveLength(1);

    broken = false;
    expect(await statuses(url, '/things', 1)).toEqual([429]);
    expect(logs.find('rate-limit store answers again')).toHaveLength(1);
  });
});
