import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createExceptionsPlugin,
  type ExceptionEvent,
  type ExceptionReporter,
  exceptionsPlugin,
} from '../../src/exceptions/index.js';
import { ConfigError, PROBLEM_CONTENT_TYPE, type Service } from '../../src/index.js';
import { startTestService } from '../../src/testing/index.js';
import { waitFor } from '../support/wait.js';

const waitValue = async <T>(what: string, read: () => T | Promise<T>, done: (value: T) => boolean) =>
  (await waitFor(what, read, done, 5000)).value;

const running: Pick<Service, 'stop'>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

/** A reporter that keeps every event. */
function collector(): ExceptionReporter & { events: ExceptionEvent[] } {
  const events: ExceptionEvent[] = [];
  return { name: 'collect', events, report: (event) => void events.push(event) };
}

async function start(
  options: {
    reporters?: ExceptionReporter[];
    exceptions?: Record<string, unknown>;
    overrides?: Record<string, unknown>;
    env?: Record<string, string>;
  } = {},
) {
  const started = await startTestService({
    plugins: [
      options.reporters ? createExceptionsPlugin({ reporters: options.reporters }) : exceptionsPlugin,
    ],
    ...(options.env ? { env: options.env } : {}),
    overrides: {
      exceptions: { enabled: true, ...options.exceptions },
      db: { url: '' },
      messaging: { url: '', retry: { maxAttempts: 2, delaysMs: [20] } },
      ...options.overrides,
    },
    setup(service) {
      service.http.get<{ Params: { id: string } }>('/orders/:id', async (request) => {
        throw new Error(`order ${request.params.id} not found`);
      });
      service.http.get('/other', async () => {
        throw new TypeError('something else broke');
      });
      service.http.get('/string', async () => {
        throw 'a bare string';
      });
      service.http.get('/hostile', async () => {
        const error = new Error('hostile');
        Object.defineProperty(error, 'stack', {
          get() {
            throw new Error('no stack for you');
          },
        });
        throw error;
      });
      service.http.get('/client-error', async (_request, reply) => reply.code(404).send({ missing: true }));
    },
  });
  running.push(started.service);
  return started;
}

function metricLine(text: string, name: string, labels: Record<string, string>): string | undefined {
  return text
    .split('\n')
    .find(
      (line) =>
        line.startsWith(`${name}{`) &&
        Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)),
    );
}

describe('exception tracking: HTTP', () => {
  it('reports a handler error with request id, trace id and fingerprint, and answers problem+json', async () => {
    const reporter = collector();
    const { url, logs } = await start({ reporters: [reporter] });
    const response = await fetch(`${url}/orders/123`, {
      headers: { traceparent: TRACEPARENT, 'x-request-id': 'req-abc-1' },
    });
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(await response.json()).toMatchObject({ status: 500, requestId: 'req-abc-1' });

    expect(reporter.events).toHaveLength(1);
    const [event] = reporter.events;
    expect(event).toMatchObject({
      source: 'http',
      name: 'Error',
      message: 'order 123 not found',
      count: 1,
      groupedAsOther: false,
      context: {
        source: 'http',
        requestId: 'req-abc-1',
        traceId: TRACE_ID,
        method: 'GET',
        route: '/orders/:id',
        statusCode: 500,
      },
      service: { name: 'test-service' },
    });
    expect(event?.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect(event?.context.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(event?.frames[0]).toMatch(/exceptions\.test\.ts:/);
    expect(event?.frames.join()).not.toMatch(/:\d+$/);

    // The tracker's line replaces the generic one, with the context and the stack.
    expect(logs.find('request failed')).toEqual([]);
    const [line] = logs.find('unhandled error in http');
    expect(line).toMatchObject({
      level: 'error',
      fingerprint: event?.fingerprint,
      requestId: 'req-abc-1',
      trace_id: TRACE_ID,
      route: '/orders/:id',
      err: { message: 'order 123 not found' },
    });
    expect(String((line?.err as { stack?: string } | undefined)?.stack)).toContain('exceptions.test.ts');
  });

  it("gives a handler error the same fingerprint whichever plugins are on, from the application's frames only", async () => {
    const seen: { fingerprint: string; frames: string[] }[] = [];
    for (const enabled of [false, true]) {
      const reporter = collector();
      const { url, service } = await start({
        reporters: [reporter],
        overrides: { audit: { enabled, sink: 'log' } },
      });
      expect((await fetch(`${url}/orders/7`)).status).toBe(500);
      const [event] = reporter.events;
      seen.push({ fingerprint: String(event?.fingerprint), frames: [...(event?.frames ?? [])] });
      await service.stop();
    }
    expect(seen[1]).toEqual(seen[0]);
    // The route handler in this file, relative to the service's root (the working directory); none
    // of the chassis's own frames, although it sits inside that root in this workspace.
    expect(seen[0]?.frames).toEqual(['test/exceptions/exceptions.test.ts:Object.<anonymous>']);
  });

  it('groups repeats: one fingerprint, a count per occurrence, one full log line, a summary later', async () => {
    const reporter = collector();
    const { url, logs, service } = await start({ reporters: [reporter] });
    for (const id of ['123', '456', randomUUID(), '0x1f2e', '5f3a9c0e4b1d2a6f7e8d9c0b']) {
      expect((await fetch(`${url}/orders/${id}`)).status).toBe(500);
    }
    const fingerprints = new Set(reporter.events.map((e) => e.fingerprint));
    expect(fingerprints.size).toBe(1);
    expect(reporter.events.map((e) => e.count)).toEqual([1, 2, 3, 4, 5]);
    const [fingerprint] = fingerprints;

    expect((await fetch(`${url}/other`)).status).toBe(500);
    expect(reporter.events.at(-1)?.fingerprint).not.toBe(fingerprint);

    const metrics = await service.metrics.text();
    expect(
      metricLine(metrics, 'exceptions_total', {
        fingerprint: String(fingerprint),
        source: 'http',
        name: 'Error',
      }),
    ).toMatch(/ 5$/);
    expect(metricLine(metrics, 'exceptions_total', { name: 'TypeError' })).toMatch(/ 1$/);
    expect(metrics).toMatch(/^exceptions_fingerprints 2$/m);

    expect(logs.find('unhandled error in http: Error: order')).toHaveLength(1);
    expect(logs.find('unhandled error in http: TypeError')).toHaveLength(1);
    // The repeats are summarised once the interval passes, or at shutdown.
    expect(logs.find('repeated')).toEqual([]);
    await service.stop();
    const [summary] = logs.find('unhandled error repeated 4 times');
    expect(summary).toMatchObject({ fingerprint, repeats: 4, total: 5, errorName: 'Error' });
    expect(summary?.err).toBeUndefined();
  });

  it('summarises repeats at most once per interval, without waiting for shutdown', async () => {
    const { url, logs } = await start({ exceptions: { logRepeatsEveryMs: 100 } });
    await fetch(`${url}/orders/1`);
    await fetch(`${url}/orders/2`);
    await fetch(`${url}/orders/3`);
    // However the requests fall across intervals, the summaries account for both repeats.
    const summaries = await waitValue(
      'summaries',
      () => logs.find('unhandled error repeated'),
      (found) => found.reduce((sum, line) => sum + Number(line.repeats), 0) === 2,
    );
    expect(summaries.at(-1)).toMatchObject({ total: 3 });
    expect(logs.find('unhandled error in http')).toHaveLength(1);
  });

  it('does not report 4xx answers', async () => {
    const reporter = collector();
    const { url, service } = await start({ reporters: [reporter] });
    expect((await fetch(`${url}/client-error`)).status).toBe(404);
    expect((await fetch(`${url}/no-such-route`)).status).toBe(404);
    expect(reporter.events).toEqual([]);
    expect(await service.metrics.text()).not.toContain('exceptions_total{');
  });

  it('handles thrown non-errors and errors whose properties throw', async () => {
    const reporter = collector();
    const { url, logs } = await start({ reporters: [reporter] });
    const bare = await fetch(`${url}/string`);
    expect(bare.status).toBe(500);
    expect(bare.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    const hostile = await fetch(`${url}/hostile`);
    expect(hostile.status).toBe(500);
    expect(reporter.events).toHaveLength(2);
    expect(reporter.events[1]).toMatchObject({ name: 'Error', message: 'hostile', stack: undefined });
    expect(reporter.events.every((e) => /^[0-9a-f]{12}$/.test(e.fingerprint))).toBe(true);
    expect(logs.find('unhandled error in http')).toHaveLength(2);
    // Still serving.
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
  });
});

describe('exception tracking: consumers, tasks, reporters', () => {
  it('reports every failed attempt of a consumer, with the attempt and the dead-lettering', async () => {
    const reporter = collector();
    const { service } = await start({ reporters: [reporter] });
    const topic = `payments.${randomUUID().slice(0, 8)}`;
    service.messaging.consume(topic, () => {
      throw new Error('payment 42 declined');
    });
    const messageId = await service.tracing.tracer.startActiveSpan('checkout', async (span) => {
      const id = await service.messaging.publish({ topic, payload: { amount: 10 } });
      span.end();
      return id;
    });
    await waitValue(
      'two failed attempts',
      () => reporter.events.length,
      (n) => n === 2,
    );
    const [first, second] = reporter.events;
    expect(first).toMatchObject({
      source: 'consumer',
      message: 'payment 42 declined',
      context: { topic, messageId, attempt: 1, deadLettered: false, queue: `test-service.${topic}` },
    });
    expect(second).toMatchObject({ context: { attempt: 2, deadLettered: true }, count: 2 });
    expect(second?.fingerprint).toBe(first?.fingerprint);
    expect(first?.context.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(metricLine(await service.metrics.text(), 'exceptions_total', { source: 'consumer' })).toMatch(
      / 2$/,
    );
  });

  it('reports a background task that rejects or throws, and resolves instead of rejecting', async () => {
    const reporter = collector();
    const { service } = await start({ reporters: [reporter] });
    await expect(
      service.errors.track(Promise.reject(new Error('nightly sync failed')), 'nightly-sync'),
    ).resolves.toBeUndefined();
    await expect(
      service.errors.track(() => {
        throw new RangeError('bad batch size');
      }, 'batch'),
    ).resolves.toBeUndefined();
    await expect(service.errors.track(async () => 7, 'fine')).resolves.toBe(7);
    expect(reporter.events.map((e) => [e.source, e.context.task, e.name])).toEqual([
      ['task', 'nightly-sync', 'Error'],
      ['task', 'batch', 'RangeError'],
    ]);
  });

  it('takes reporters added at run time, and stops calling one once removed', async () => {
    const { url, service } = await start();
    expect(service.exceptions.enabled).toBe(true);
    const reporter = collector();
    const remove = service.exceptions.addReporter(reporter);
    await fetch(`${url}/orders/1`);
    remove();
    await fetch(`${url}/orders/2`);
    expect(reporter.events).toHaveLength(1);
    expect(reporter.events[0]?.fingerprint).toBe(service.exceptions.fingerprint(reporter.events[0]?.error));
  });

  it('isolates reporters that throw, reject or hang, and counts their failures', async () => {
    const good = collector();
    const settled: string[] = [];
    const reporters: ExceptionReporter[] = [
      {
        name: 'throws',
        report() {
          throw new Error('tracker down');
        },
      },
      { name: 'rejects', report: () => Promise.reject(new Error('HTTP 502 from tracker')) },
      { name: 'hangs', report: () => new Promise<void>(() => {}) },
      {
        name: 'flushes-slowly',
        report: () => {},
        flush: () => new Promise<void>(() => settled.push('never')),
      },
      good,
    ];
    const { url, service, logs } = await start({ reporters, exceptions: { reporterTimeoutMs: 50 } });
    const response = await fetch(`${url}/orders/9`);
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ status: 500 });
    expect(good.events).toHaveLength(1);

    const text = await waitValue(
      'timeout counted',
      () => service.metrics.text(),
      (t) => metricLine(t, 'exceptions_reporter_failures_total', { reporter: 'hangs' }) !== undefined,
    );
    expect(
      metricLine(text, 'exceptions_reporter_failures_total', { reporter: 'throws', reason: 'error' }),
    ).toMatch(/ 1$/);
    expect(
      metricLine(text, 'exceptions_reporter_failures_total', { reporter: 'rejects', reason: 'error' }),
    ).toMatch(/ 1$/);
    expect(
      metricLine(text, 'exceptions_reporter_failures_total', { reporter: 'hangs', reason: 'timeout' }),
    ).toMatch(/ 1$/);
    expect(logs.find('exception reporter "throws" failed (error)')).toHaveLength(1);

    // Shutdown is not held up by a hanging flush.
    expect(await service.stop()).toBe(true);
    expect(
      metricLine(await service.metrics.text(), 'exceptions_reporter_failures_total', {
        reporter: 'flushes-slowly',
        reason: 'timeout',
      }),
    ).toMatch(/ 1$/);
  });

  it('groups fingerprints beyond maxFingerprints under "other", with a warning', async () => {
    const reporter = collector();
    const { url, service, logs } = await start({ reporters: [reporter], exceptions: { maxFingerprints: 1 } });
    await fetch(`${url}/orders/1`);
    await fetch(`${url}/other`);
    await fetch(`${url}/string`);
    expect(reporter.events.map((e) => e.groupedAsOther)).toEqual([false, true, true]);
    expect(reporter.events[1]?.fingerprint).not.toBe(reporter.events[2]?.fingerprint);
    const text = await service.metrics.text();
    expect(metricLine(text, 'exceptions_total', { fingerprint: 'other', name: 'TypeError' })).toMatch(/ 1$/);
    expect(metricLine(text, 'exceptions_total', { fingerprint: 'other', name: 'NonError' })).toMatch(/ 1$/);
    expect(logs.find('more than 1 distinct error fingerprints')).toHaveLength(1);
    expect(logs.find('unhandled error in http')).toHaveLength(2);
  });
});

describe('exception tracking: configuration', () => {
  it('is off by default: nothing listens, errors are logged where they happen', async () => {
    const started = await startTestService({
      plugins: [exceptionsPlugin],
      setup(s) {
        s.http.get('/boom', async () => {
          throw new Error('boom');
        });
      },
    });
    running.push(started.service);
    const { service, url, logs } = started;
    expect(service.exceptions.enabled).toBe(false);
    expect(service.errors.listening).toBe(false);
    expect(() => service.exceptions.addReporter(collector())).not.toThrow();
    expect((await fetch(`${url}/boom`)).status).toBe(500);
    expect(logs.find('request failed')).toHaveLength(1);
    expect(await service.metrics.text()).not.toContain('exceptions_total');
  });

  it('is switched on by the environment alone', async () => {
    const { service, url, logs } = await start({ env: { EXCEPTIONS_ENABLED: 'true' }, exceptions: {} });
    expect(service.exceptions.enabled).toBe(true);
    await fetch(`${url}/orders/1`);
    expect(logs.find('unhandled error in http')).toHaveLength(1);
  });

  it('refuses bad settings with every problem named', async () => {
    const error = await startTestService({
      plugins: [exceptionsPlugin],
      env: { EXCEPTIONS_ENABLED: 'maybe', EXCEPTIONS_REPORTER: 'sentry', EXCEPTIONS_MAX_FINGERPRINTS: '-1' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('exceptions.enabled: not a boolean; got "maybe" (from env EXCEPTIONS_ENABLED)');
    expect(message).toContain('exceptions.reporter');
    expect(message).toContain('one of "log", "none"');
    expect(message).toContain('exceptions.maxFingerprints');
  });

  it('refuses a zero reporter timeout and reporters without report()', async () => {
    await expect(
      startTestService({
        plugins: [exceptionsPlugin],
        overrides: { exceptions: { enabled: true, reporterTimeoutMs: 0 } },
      }),
    ).rejects.toThrow('exceptions.reporterTimeoutMs must be at least 1 ms');
    expect(() => createExceptionsPlugin({ reporters: [{} as ExceptionReporter] })).toThrow(
      'reporters[0] is not an exception reporter',
    );
    const { service } = await start();
    expect(() => service.exceptions.addReporter(null as unknown as ExceptionReporter)).toThrow(
      'An exception reporter is an object with a report(event) function',
    );
  });

  it('with reporter=none, only the reporters given in code receive events', async () => {
    const reporter = collector();
    const { url, logs } = await start({ reporters: [reporter], exceptions: { reporter: 'none' } });
    await fetch(`${url}/orders/1`);
    expect(reporter.events).toHaveLength(1);
    expect(logs.find('unhandled error')).toEqual([]);
  });
});
