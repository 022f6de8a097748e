import { afterEach, describe, expect, it } from 'vitest';
import {
  BulkheadFullError,
  CircuitOpenError,
  type ClientDefaults,
  ConnectionError,
  HttpStatusError,
  TimeoutError,
} from '../src/index.js';
import { startTestService } from '../src/testing/index.js';
import { startOtlpReceiver } from './support/otlp-receiver.js';
import { freePort } from './support/ports.js';
import { startScriptedServer } from './support/scripted-server.js';
import { waitUntil } from './support/wait.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function server(script: Parameters<typeof startScriptedServer>[0]) {
  const s = await startScriptedServer(script);
  cleanups.push(s.close);
  return s;
}

/** A service with one declared client `down`, configured through `clients.down.*` overrides. */
async function service(
  baseUrl: string,
  settings: Record<string, unknown> = {},
  defaults: ClientDefaults = {},
) {
  const started = await startTestService({
    clients: { down: { baseUrl, ...defaults } },
    overrides: { log: { level: 'debug' }, clients: { down: settings } },
  });
  cleanups.push(() => started.service.stop());
  return started;
}

const fast = { retry: { initialDelayMs: 5, maxDelayMs: 20 } };

/** The value of one sample in a metrics exposition, or undefined when it is absent. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('HTTP client: calls and errors', () => {
  it('sends JSON, parses JSON, passes query and headers', async () => {
    const down = await server((_n, req) => ({ body: { got: req.url, ct: req.headers['content-type'] } }));
    const { service: svc } = await service(down.url);
    const res = await svc.clients
      .http('down')
      .post('/orders', { sku: 'a' }, { query: { page: 2, x: undefined } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ got: '/orders?page=2', ct: 'application/json' });
  });

  it('keeps the base URL path', async () => {
    const down = await server((_n, req) => ({ body: { got: req.url } }));
    const { service: svc } = await service(`${down.url}/api/v1/`);
    expect((await svc.clients.http('down').get('/stock/42')).body).toEqual({ got: '/api/v1/stock/42' });
  });

  it('rejects a 4xx with HttpStatusError carrying the problem body, without retrying', async () => {
    const down = await server(() => ({ status: 404, body: { title: 'Not Found', status: 404 } }));
    const { service: svc } = await service(down.url, fast);
    const error = await rejection(svc.clients.http('down').get('/missing'));
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(404);
    expect((error as HttpStatusError).body).toEqual({ title: 'Not Found', status: 404 });
    expect((error as HttpStatusError).kind).toBe('status');
    expect(down.hits).toHaveLength(1);
  });

  it('fails with ConnectionError when nothing listens', async () => {
    const port = await freePort();
    const { service: svc } = await service(`http://127.0.0.1:${port}`, { retry: { attempts: 0 } });
    const error = await rejection(svc.clients.http('down').get('/'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('ECONNREFUSED');
  });

  it('resolves instances through a resolver and reports each outcome', async () => {
    const down = await server(() => ({ body: { ok: true } }));
    const { service: svc } = await startTestService({});
    cleanups.push(() => svc.stop());
    const outcomes: boolean[] = [];
    svc.clients.setResolver({
      resolve: (name) => {
        expect(name).toBe('inventory');
        return { url: down.url, release: ({ ok }) => outcomes.push(ok) };
      },
    });
    await svc.clients.http('inventory').get('/x');
    expect(outcomes).toEqual([true]);
  });
});

describe('HTTP client: retries', () => {
  it('retries a transient status of a GET with growing, jittered backoff', async () => {
    const down = await server((n) => (n % 4 < 3 ? { status: 503 } : { body: { ok: true } }));
    const { service: svc, logs } = await service(down.url, {
      retry: { attempts: 3, initialDelayMs: 40, maxDelayMs: 1000 },
    });
    const client = svc.clients.http('down');
    for (let i = 0; i < 4; i++) expect((await client.get('/flaky')).body).toEqual({ ok: true });
    expect(down.hits).toHaveLength(16);

    const retries = logs
      .find('retrying call')
      .map((e) => ({ attempt: e.attempt as number, delay: e.delayMs as number }));
    expect(retries).toHaveLength(12);
    for (const { attempt, delay } of retries) {
      // Half jitter: between half and all of initialDelay·2^(attempt-1).
      const full = 40 * 2 ** (attempt - 1);
      expect(delay).toBeGreaterThanOrEqual(full / 2);
      expect(delay).toBeLessThan(full);
    }
    const firstDelays = new Set(retries.filter((r) => r.attempt === 1).map((r) => r.delay));
    expect(firstDelays.size).toBeGreaterThan(1);
    // The server saw the waits: each gap at least the chosen delay (timers never fire early by more than 1 ms).
    for (let call = 0; call < 4; call++)
      for (let a = 1; a < 4; a++) {
        const gap = (down.hits[call * 4 + a]?.at ?? 0) - (down.hits[call * 4 + a - 1]?.at ?? 0);
        expect(gap).toBeGreaterThanOrEqual((retries[call * 3 + a - 1]?.delay ?? 0) - 1);
      }
  });

  it('does not retry a POST, unless it is marked idempotent or has an Idempotency-Key', async () => {
    const down = await server(() => ({ status: 503 }));
    const { service: svc } = await service(down.url, {
      ...fast,
      retry: { ...fast.retry, attempts: 2 },
      breaker: { mode: 'off' },
    });
    const client = svc.clients.http('down');
    expect(await rejection(client.post('/orders', {}))).toBeInstanceOf(HttpStatusError);
    expect(down.hits).toHaveLength(1);
    await rejection(client.post('/orders', {}, { idempotent: true }));
    expect(down.hits).toHaveLength(4);
    await rejection(client.post('/orders', {}, { headers: { 'Idempotency-Key': 'k-1' } }));
    expect(down.hits).toHaveLength(7);
    await rejection(client.get('/x', { idempotent: false }));
    expect(down.hits).toHaveLength(8);
  });

  it('does not retry a 500 (not transient)', async () => {
    const down = await server(() => ({ status: 500 }));
    const { service: svc } = await service(down.url, fast);
    expect(((await rejection(svc.clients.http('down').get('/'))) as HttpStatusError).status).toBe(500);
    expect(down.hits).toHaveLength(1);
  });

  it('retries a refused connection even for a POST: the request was never sent', async () => {
    const port = await freePort();
    const { service: svc, logs } = await service(`http://127.0.0.1:${port}`, fast);
    expect(await rejection(svc.clients.http('down').post('/orders', {}))).toBeInstanceOf(ConnectionError);
    expect(logs.find('retrying call')).toHaveLength(2);
  });

  it('honours Retry-After, and fails at once when it asks for more than maxRetryAfterMs', async () => {
    const down = await server((n) =>
      n === 0
        ? { status: 503, headers: { 'retry-after': '1' } }
        : n === 2
          ? { status: 429, headers: { 'retry-after': '120' } }
          : { body: { ok: true } },
    );
    const { service: svc } = await service(down.url, fast);
    const client = svc.clients.http('down');
    await client.get('/a');
    expect(down.hits).toHaveLength(2);
    expect((down.hits[1]?.at ?? 0) - (down.hits[0]?.at ?? 0)).toBeGreaterThanOrEqual(999);

    const error = await rejection(client.get('/b'));
    expect((error as HttpStatusError).status).toBe(429);
    expect((error as HttpStatusError).headers['retry-after']).toBe('120');
    expect(down.hits).toHaveLength(3);
  });

  it('keeps retries within the budget when everything fails', async () => {
    const down = await server(() => ({ status: 503 }));
    const { service: svc } = await service(down.url, {
      retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 1, budgetRatio: 0, budgetMinPerSecond: 1 },
      breaker: { mode: 'off' },
    });
    const client = svc.clients.http('down');
    for (let i = 0; i < 8; i++) await rejection(client.get('/'));
    // 8 calls × 3 retries would be 24; the budget allows 1 per second over its 10 s window.
    expect(down.hits.length - 8).toBe(10);
    const metrics = await svc.metrics.text();
    expect(metrics).toMatch(/http_client_rejections_total\{client="down",reason="retry_budget"\} [1-9]/);
    expect(metrics).toContain('http_client_retries_total{client="down"} 10');
  });
});

describe('HTTP client: timeouts', () => {
  it('times out a slow attempt and retries it', async () => {
    const down = await server((n) =>
      n === 0 ? { delayMs: 1000, body: { slow: true } } : { body: { slow: false } },
    );
    const { service: svc } = await service(down.url, { ...fast, attemptTimeoutMs: 100 });
    expect((await svc.clients.http('down').get('/')).body).toEqual({ slow: false });
    expect(down.hits).toHaveLength(2);
  });

  it('gives up at the deadline with TimeoutError(deadline)', async () => {
    const down = await server(() => ({ delayMs: 2000 }));
    const { service: svc } = await service(down.url, { timeoutMs: 300, attemptTimeoutMs: 5000 });
    const error = await rejection(svc.clients.http('down').get('/'));
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).scope).toBe('deadline');
    expect((error as TimeoutError).kind).toBe('timeout');
  });

  it('cancels the attempt in flight at the deadline: socket closed, bulkhead slot freed, counted once', async () => {
    const never = new Promise<void>(() => {});
    const down = await server((n) => (n === 0 ? { hold: never } : { body: { n } }));
    const { service: svc } = await service(down.url, {
      timeoutMs: 600,
      attemptTimeoutMs: 3000,
      retry: { attempts: 0 },
      bulkhead: { maxConcurrent: 1, maxQueue: 0 },
    });
    const client = svc.clients.http('down');
    const started = performance.now();
    const first = rejection(client.get('/hang'));
    await waitUntil('the condition', () => down.hits.length === 1);
    // While the first call hangs, it holds the only slot.
    expect(await rejection(client.get('/busy'))).toBeInstanceOf(BulkheadFullError);
    expect(down.hits).toHaveLength(1);

    const error = await first;
    const gaveUp = performance.now();
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).scope).toBe('deadline');
    expect(gaveUp - started).toBeGreaterThanOrEqual(599);
    // Right after the caller's deadline the slot is free again: no call is refused.
    for (let i = 0; i < 20; i++) expect((await client.get('/next')).body).toEqual({ n: i + 1 });

    // The server saw the connection of the hanging request close at the deadline, not at the
    // attempt timeout (3 s).
    await waitUntil('the condition', () => down.hits[0]?.closedAt !== undefined);
    const closedAt = down.hits[0]?.closedAt ?? Number.NaN;
    expect(Math.abs(closedAt - gaveUp)).toBeLessThan(150);

    const metrics = await svc.metrics.text();
    const failed = 'client="down",method="GET",status_code="error"';
    expect(sample(metrics, `http_client_request_duration_seconds_count{${failed}}`)).toBe(1);
    // The attempt as the caller saw it: cut at the 600 ms deadline.
    const seconds = sample(metrics, `http_client_request_duration_seconds_sum{${failed}}`) ?? 0;
    expect(seconds).toBeGreaterThanOrEqual(0.55);
    expect(seconds).toBeLessThan(1);
    expect(sample(metrics, 'http_client_rejections_total{client="down",reason="timeout"}')).toBe(1);
    expect(sample(metrics, 'http_client_rejections_total{client="down",reason="bulkhead_full"}')).toBe(1);
  });

  it('cancels an attempt at its own timeout: the socket closes and the retry gets the slot', async () => {
    const down = await server((n) => (n === 0 ? { delayMs: 3000, body: { slow: true } } : { body: { n } }));
    const { service: svc } = await service(down.url, {
      ...fast,
      attemptTimeoutMs: 200,
      bulkhead: { maxConcurrent: 1, maxQueue: 0 },
    });
    expect((await svc.clients.http('down').get('/')).body).toEqual({ n: 1 });
    await waitUntil('the condition', () => down.hits[0]?.closedAt !== undefined);
    const open = (down.hits[0]?.closedAt ?? Number.NaN) - (down.hits[0]?.at ?? 0);
    expect(open).toBeGreaterThanOrEqual(195);
    expect(open).toBeLessThan(400);
    const metrics = await svc.metrics.text();
    expect(sample(metrics, 'http_client_rejections_total{client="down",reason="timeout"}')).toBeUndefined();
    expect(sample(metrics, 'http_client_retries_total{client="down"}')).toBe(1);
  });

  it('reports an attempt timeout of a POST as TimeoutError(attempt), not retried', async () => {
    const down = await server(() => ({ delayMs: 1000 }));
    const { service: svc } = await service(down.url, { ...fast, attemptTimeoutMs: 100 });
    const error = await rejection(svc.clients.http('down').post('/orders', {}));
    expect((error as TimeoutError).scope).toBe('attempt');
    expect(down.hits).toHaveLength(1);
  });

  it('stops when the caller aborts', async () => {
    const down = await server(() => ({ delayMs: 2000 }));
    const { service: svc } = await service(down.url);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('caller gave up')), 50);
    const error = await rejection(svc.clients.http('down').get('/', { signal: controller.signal }));
    expect(error.message).toBe('caller gave up');
  });
});

describe('HTTP client: circuit breaker', () => {
  it('opens after consecutive failures, fails fast, half-opens after the wait and closes on success', async () => {
    let healthy = false;
    const down = await server(() => (healthy ? { body: { ok: true } } : { status: 500 }));
    const {
      service: svc,
      url,
      logs,
    } = await service(down.url, {
      retry: { attempts: 0 },
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 300 },
    });
    const client = svc.clients.http('down');
    for (let i = 0; i < 3; i++) expect(await rejection(client.get('/'))).toBeInstanceOf(HttpStatusError);
    expect(await rejection(client.get('/'))).toBeInstanceOf(CircuitOpenError);
    expect(down.hits).toHaveLength(3);
    expect(await svc.metrics.text()).toContain('http_client_circuit_state{client="down"} 1');
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200); // not critical by default: a warning
    const health = (await ready.json()) as { status: string; checks: Record<string, { status: string }[]> };
    expect(health.status).toBe('warn');
    expect(JSON.stringify(health.checks)).toContain('circuit open');

    // Half-open: one probe; it fails, so the circuit opens again.
    await new Promise((r) => setTimeout(r, 350));
    expect(await rejection(client.get('/'))).toBeInstanceOf(HttpStatusError);
    expect(down.hits).toHaveLength(4);
    expect(await rejection(client.get('/'))).toBeInstanceOf(CircuitOpenError);

    healthy = true;
    await new Promise((r) => setTimeout(r, 350));
    expect((await client.get('/')).body).toEqual({ ok: true });
    expect((await client.get('/')).body).toEqual({ ok: true });
    expect(await svc.metrics.text()).toContain('http_client_circuit_state{client="down"} 0');
    expect(logs.find('circuit of client down is').map((e) => e.circuit)).toEqual([
      'open',
      'half_open',
      'open',
      'half_open',
      'closed',
    ]);
  });

  it('half-open: the gauge turns at halfOpenAfterMs, one probe goes through, every other call fails fast', async () => {
    let releaseProbe!: () => void;
    const probeHeld = new Promise<void>((resolve) => {
      releaseProbe = resolve;
    });
    const down = await server((n) =>
      n === 0 ? { status: 500 } : n === 1 ? { hold: probeHeld, body: { probe: true } } : { body: { n } },
    );
    const {
      service: svc,
      url,
      logs,
    } = await service(down.url, {
      retry: { attempts: 0 },
      attemptTimeoutMs: 10000,
      breaker: { consecutiveFailures: 1, halfOpenAfterMs: 300 },
    });
    const client = svc.clients.http('down');
    const gauge = async () => sample(await svc.metrics.text(), 'http_client_circuit_state{client="down"}');
    expect(await rejection(client.get('/'))).toBeInstanceOf(HttpStatusError);
    const opened = performance.now();
    expect(await gauge()).toBe(1);

    // No call arrives, yet the gauge and health show half-open once halfOpenAfterMs has passed.
    await waitUntil('the condition', async () => (await gauge()) === 2);
    expect(performance.now() - opened).toBeLessThan(1000);
    expect(await gauge()).toBe(2);
    const health = await (await fetch(`${url}/health/ready`)).text();
    expect(health).toContain('circuit half-open: probing');

    // Ten calls at once: the first is the probe, held by the server; the other nine fail fast.
    const calls = Array.from({ length: 10 }, () => {
      const began = performance.now();
      return client.get('/').then(
        (res) => ({ res, error: undefined, ms: performance.now() - began }),
        (error: Error) => ({ res: undefined, error, ms: performance.now() - began }),
      );
    });
    const rejected = await Promise.all(calls.slice(1));
    await waitUntil('the condition', () => down.hits.length === 2);
    for (const { error, ms } of rejected) {
      expect(error).toBeInstanceOf(CircuitOpenError);
      // Well under the probe's hang (500 ms below): the call did not wait for the probe.
      expect(ms).toBeLessThan(100);
    }
    await sleep(500);
    expect(down.hits).toHaveLength(2);
    releaseProbe();
    const probe = await calls[0];
    expect(probe?.res?.body).toEqual({ probe: true });
    expect(probe?.ms).toBeGreaterThanOrEqual(499);

    expect(await gauge()).toBe(0);
    expect((await client.get('/')).body).toEqual({ n: 2 });
    expect(
      sample(await svc.metrics.text(), 'http_client_rejections_total{client="down",reason="circuit_open"}'),
    ).toBe(9);
    expect(logs.find('circuit of client down is').map((e) => e.circuit)).toEqual([
      'open',
      'half_open',
      'closed',
    ]);
  });

  it('fails readiness when the breaker is marked critical', async () => {
    const down = await server(() => ({ status: 503 }));
    const { service: svc, url } = await service(down.url, {
      retry: { attempts: 0 },
      breaker: { consecutiveFailures: 1, critical: true },
    });
    await rejection(svc.clients.http('down').get('/'));
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);
  });

  it('opens in sampling mode when the failure rate passes the threshold', async () => {
    const down = await server((n) => (n % 2 === 0 ? { status: 500 } : { body: {} }));
    const { service: svc } = await service(down.url, {
      retry: { attempts: 0 },
      breaker: { mode: 'sampling', threshold: 0.4, windowMs: 5000, minimumRps: 1 },
    });
    const client = svc.clients.http('down');
    let open = false;
    for (let i = 0; i < 40 && !open; i++) {
      const error = await client.get('/').then(
        () => undefined,
        (e: Error) => e,
      );
      open = error instanceof CircuitOpenError;
    }
    expect(open).toBe(true);
  });

  it('does not count 4xx answers as failures', async () => {
    const down = await server(() => ({ status: 404 }));
    const { service: svc } = await service(down.url, { breaker: { consecutiveFailures: 2 } });
    for (let i = 0; i < 5; i++)
      expect(await rejection(svc.clients.http('down').get('/'))).toBeInstanceOf(HttpStatusError);
    expect(down.hits).toHaveLength(5);
  });
});

describe('HTTP client: bulkhead', () => {
  it('rejects beyond max concurrent + queue, at once and without sending', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const down = await server(() => ({ hold: gate, body: { ok: true } }));
    const { service: svc } = await service(down.url, {
      attemptTimeoutMs: 10000,
      bulkhead: { maxConcurrent: 2, maxQueue: 1 },
    });
    const client = svc.clients.http('down');
    const calls = [0, 1, 2].map(() => client.get('/'));
    const error = await rejection(client.get('/'));
    expect(error).toBeInstanceOf(BulkheadFullError);
    // Bounded wait until both slots reached the server.
    for (let i = 0; i < 200 && down.hits.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    expect(down.hits).toHaveLength(2);
    expect(error).toMatchObject({ kind: 'bulkhead-full', client: 'down' });
    release();
    const results = await Promise.all(calls);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(down.maxInFlight).toBe(2);
    expect(down.hits).toHaveLength(3);
    expect(await svc.metrics.text()).toContain(
      'http_client_rejections_total{client="down",reason="bulkhead_full"} 1',
    );
  });
});

describe('HTTP client: context of queued calls', () => {
  it('a call that waited in the bulkhead queue keeps its own trace', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const down = await server((n) => (n === 0 ? { hold: gate, body: {} } : { body: {} }));
    const { service: svc, url } = await startTestService({
      clients: { down: { baseUrl: down.url } },
      overrides: {
        clients: { down: { attemptTimeoutMs: 10000, bulkhead: { maxConcurrent: 1, maxQueue: 5 } } },
      },
      setup: (s) => void s.http.get('/relay', async () => (await s.clients.http('down').get('/')).body),
    });
    cleanups.push(() => svc.stop());
    const traces = ['a', 'b', 'c'].map((c) => c.repeat(32));
    const calls = traces.map((id) =>
      fetch(`${url}/relay`, { headers: { traceparent: `00-${id}-${'1'.repeat(16)}-01` } }),
    );
    await waitUntil('the condition', () => down.hits.length === 1);
    release();
    expect((await Promise.all(calls)).map((r) => r.status)).toEqual([200, 200, 200]);
    const sent = down.hits.map((hit) => String(hit.headers.traceparent).split('-')[1]);
    expect(new Set(sent)).toEqual(new Set(traces));
  });
});

describe('HTTP client: metrics and config', () => {
  it('measures each attempt by client, method and status', async () => {
    const down = await server(() => ({ body: {} }));
    const { service: svc } = await service(down.url);
    await svc.clients.http('down').get('/');
    expect(await svc.metrics.text()).toMatch(
      /http_client_request_duration_seconds_count\{client="down",method="GET",status_code="200"\} 1/,
    );
  });

  it('takes client settings from the environment, and lists bad values', async () => {
    await expect(
      startTestService({
        clients: { down: {} },
        env: { CLIENTS_DOWN_BASE_URL: 'http://127.0.0.1:1', CLIENTS_DOWN_TIMEOUT_MS: 'soon' },
      }),
    ).rejects.toThrow(/clients\.down\.timeoutMs/);
    const ok = await startTestService({
      clients: { down: {} },
      env: { CLIENTS_DOWN_BASE_URL: 'http://127.0.0.1:1' },
    });
    cleanups.push(() => ok.service.stop());
    expect(ok.service.config.explain().find((e) => e.key === 'clients.down.baseUrl')).toMatchObject({
      value: 'http://127.0.0.1:1',
      env: 'CLIENTS_DOWN_BASE_URL',
    });
  });

  it('refuses invalid client names', async () => {
    await expect(startTestService({ clients: { Bad_Name: {} } })).rejects.toThrow(
      /Invalid client name "Bad_Name"/,
    );
  });
});

describe('HTTP client: absolute URLs', () => {
  it("sends an absolute URL where it says, under the client's policies, hooks and metrics", async () => {
    const home = await server(() => ({ body: { from: 'home' } }));
    const elsewhere = await server((n, req) =>
      n === 0
        ? { status: 503 }
        : { body: { from: 'elsewhere', url: req.url, tenant: req.headers['x-tenant'] ?? null } },
    );
    const { service: svc, logs } = await service(home.url, fast);
    const seen: { path: string; origin: string | undefined }[] = [];
    svc.clients.addRequestHeaders(
      (headers, call) => {
        seen.push({ path: call.path, origin: call.origin });
        headers['x-tenant'] = 't-1';
      },
      { absoluteUrls: true },
    );
    // A hook for the downstream only (the default) never sees a call to an absolute URL.
    const apiKeys: string[] = [];
    svc.clients.addRequestHeaders((headers, call) => {
      apiKeys.push(call.path);
      headers['x-api-key'] = 'for-home-only';
    });
    const client = svc.clients.http('down');
    const res = await client.get(`${elsewhere.url}/hooks/a?sig=1`, { query: { page: 2 } });
    expect(res.body).toEqual({ from: 'elsewhere', url: '/hooks/a?sig=1&page=2', tenant: 't-1' });
    expect(elsewhere.hits.map((hit) => hit.headers['x-api-key'])).toEqual([undefined, undefined]);
    expect(apiKeys).toEqual([]);
    // The 503 was retried, like any call of this client; the base URL was never used.
    expect(elsewhere.hits).toHaveLength(2);
    expect(logs.find('retrying call')).toHaveLength(1);
    expect(home.hits).toHaveLength(0);
    expect(seen).toEqual([
      { path: `${elsewhere.url}/hooks/a`, origin: elsewhere.url },
      { path: `${elsewhere.url}/hooks/a`, origin: elsewhere.url },
    ]);
    // A path still goes to the base URL.
    expect((await client.get('/x')).body).toEqual({ from: 'home' });
    expect(seen[2]).toEqual({ path: '/x', origin: undefined });
    expect(apiKeys).toEqual(['/x']);

    // Metrics name the client, never the URL: any number of targets keeps the series bounded.
    const metrics = await svc.metrics.text();
    expect(
      sample(
        metrics,
        'http_client_request_duration_seconds_count{client="down",method="GET",status_code="200"}',
      ),
    ).toBe(2);
    expect(
      sample(
        metrics,
        'http_client_request_duration_seconds_count{client="down",method="GET",status_code="503"}',
      ),
    ).toBe(1);
    expect(metrics).not.toContain(new URL(elsewhere.url).port);
  });

  it('works on a client without a base URL or resolver, and shares its breaker', async () => {
    const down = await server(() => ({ status: 500 }));
    const { service: svc } = await startTestService({});
    cleanups.push(() => svc.stop());
    const hooks = svc.clients.http('webhooks');
    for (let i = 0; i < 5; i++)
      expect(await rejection(hooks.post(`${down.url}/events`, { i }))).toBeInstanceOf(HttpStatusError);
    expect(down.hits.map((h) => h.url)).toEqual(Array(5).fill('/events'));
    // Five failures in a row open the circuit of the client, whatever URLs its calls went to.
    const error = await rejection(hooks.post(`${down.url}/other`, {}));
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error.message).toBe(`webhooks: POST ${down.url}/other: circuit open, call not sent`);
    expect(down.hits).toHaveLength(5);
  });

  it('refuses, naming the client, a path without a base URL or resolver, and URLs it cannot send', async () => {
    const { service: svc } = await startTestService({});
    cleanups.push(() => svc.stop());
    const client = svc.clients.http('nowhere');
    const began = performance.now();
    const error = await rejection(client.get('/stock/42'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('ENOENDPOINT');
    expect(error.message).toBe(
      'nowhere: GET /stock/42: ENOENDPOINT: client "nowhere" has no base URL and no service registry ' +
        'to find its downstream: set clients.nowhere.baseUrl (declared with createService({ clients: ' +
        '{ nowhere: {} } })), enable a registry, or call an absolute URL',
    );
    // Refused before any policy: no attempt, retry or rejection to count.
    expect(performance.now() - began).toBeLessThan(50);
    const metrics = await svc.metrics.text();
    expect(metrics).not.toMatch(/http_client_(request_duration|retries|rejections)\w*\{client="nowhere"/);
    expect(metrics).toContain('http_client_circuit_state{client="nowhere"} 0');

    await expect(client.get('stock/42')).rejects.toThrow(
      'nowhere: expected a path starting with "/" or an absolute http(s) URL: stock/42',
    );
    await expect(client.get('ftp://127.0.0.1/file')).rejects.toThrow(/absolute http\(s\) URL: ftp:/);
    const withPassword = await rejection(client.get('http://user:secret@127.0.0.1:1/'));
    expect(withPassword).toBeInstanceOf(TypeError);
    expect(withPassword.message).toBe(
      'nowhere: a URL with credentials is refused; send them in a header instead',
    );
  });

  it('traces a call to an absolute URL as a client span of that host, and passes the trace on', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(receiver.close);
    const hook = await server((_n, req) => ({ body: { traceparent: req.headers.traceparent } }));
    const { service: svc, url } = await startTestService({
      overrides: {
        tracing: { exporter: 'otlp', otlp: { endpoint: receiver.endpoint }, batch: { delayMs: 50 } },
      },
      setup(s) {
        s.http.get(
          '/notify',
          async () => (await s.clients.http('webhooks').post(`${hook.url}/in?x=1`, {})).body,
        );
      },
    });
    const body = (await (await fetch(`${url}/notify`)).json()) as { traceparent: string };
    await svc.stop();
    const client = receiver.spans.find((span) => span.kind === 3);
    expect(client?.attributes).toMatchObject({
      'http.request.method': 'POST',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(hook.url).port),
      'url.full': `${hook.url}/in?x=1`,
      'keelson.client': 'webhooks',
      'http.response.status_code': 200,
    });
    // Sampled (01) and, for a trace the chassis started, random (02).
    expect(body.traceparent).toBe(`00-${client?.traceId}-${client?.spanId}-03`);
  });
});
