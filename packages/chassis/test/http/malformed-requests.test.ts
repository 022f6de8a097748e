import { EventEmitter, once } from 'node:events';
import { STATUS_CODES } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService } from '../../src/testing/index.js';
import { freePort } from '../support/ports.js';
import { exchange, problemOf, type RawResponse, total, UUID } from './raw-http.js';

// Node's parser allows 16 KiB of request line and headers.
const OVERSIZED = 'x'.repeat(32 * 1024);

interface Rejection {
  name: string;
  request: string;
  status: number;
  detail: RegExp;
  /** The histogram's method label: `_OTHER` when Node's parser rejects the request before it exists. */
  method: '_OTHER' | 'GET';
}

/** Requests the server must turn away before any route sees them. */
const REJECTIONS: Rejection[] = [
  {
    name: 'a method that is not a token',
    request: 'G(T /ok HTTP/1.1\r\nHost: a\r\n\r\n',
    status: 400,
    detail: /method is not valid/,
    method: '_OTHER',
  },
  {
    name: 'both Content-Length and Transfer-Encoding',
    request:
      'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    status: 400,
    detail: /Content-Length/,
    method: '_OTHER',
  },
  {
    name: 'a NUL byte in the path',
    request: 'GET /o\0k HTTP/1.1\r\nHost: a\r\n\r\n',
    status: 400,
    detail: /not valid HTTP: Invalid char in url path/,
    method: '_OTHER',
  },
  {
    name: 'a header line over the size limit',
    request: `GET /ok HTTP/1.1\r\nHost: a\r\nX-Padding: ${OVERSIZED}\r\n\r\n`,
    status: 431,
    detail: /too large/,
    method: '_OTHER',
  },
  {
    name: 'a query string over the size limit',
    request: `GET /ok?q=${OVERSIZED} HTTP/1.1\r\nHost: a\r\n\r\n`,
    status: 431,
    detail: /too large/,
    method: '_OTHER',
  },
  {
    name: 'HTTP/1.1 without a Host header',
    request: 'GET /ok HTTP/1.1\r\nConnection: close\r\n\r\n',
    status: 400,
    detail: /no Host header/,
    method: 'GET',
  },
  {
    name: 'a malformed percent-encoding (/%zz)',
    request: 'GET /%zz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    status: 400,
    detail: /malformed percent-encoding/,
    method: 'GET',
  },
  {
    name: 'a truncated percent-encoding (/%)',
    request: 'GET /% HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    status: 400,
    detail: /malformed percent-encoding/,
    method: 'GET',
  },
];

const VALID = 'GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';

/** Emits each request's URL when routing reaches it: the server has read the request's head. */
const routed = new EventEmitter();

function startService(metricsPort = 0) {
  return startTestService({
    overrides: { metrics: { runtime: false, port: metricsPort, host: '127.0.0.1' } },
    setup(svc) {
      svc.http.addHook('onRequest', (request, _reply, done) => {
        routed.emit(request.url);
        done();
      });
      svc.http.get('/ok', async () => ({ ok: true }));
      svc.http.post('/echo', async (request) => ({ received: request.body }));
      svc.http.get('/slow', async () => {
        await delay(300);
        return { ok: true };
      });
    },
  });
}

describe('requests turned away before routing (raw sockets)', () => {
  let svc: Awaited<ReturnType<typeof startService>>;
  let port: number;
  beforeAll(async () => {
    svc = await startService();
    port = Number(new URL(svc.url).port);
  });
  afterAll(() => svc.service.stop());

  it.each(REJECTIONS)('$name: $status problem+json with its request id, logged', async (rejection) => {
    const { responses, closedMs } = await exchange(port, Buffer.from(rejection.request, 'latin1'));
    expect(responses).toHaveLength(1);
    const [response] = responses;
    expect(response?.status).toBe(rejection.status);
    const problem = problemOf(response);
    expect(problem).toMatchObject({
      type: 'about:blank',
      title: STATUS_CODES[rejection.status],
      status: rejection.status,
    });
    expect(problem.detail).toMatch(rejection.detail);
    // Nothing can follow on a connection whose request could not be read.
    expect(response?.headers.connection?.toLowerCase()).toBe('close');
    expect(closedMs).toBeDefined();
    const logged = svc.logs.entries().filter((entry) => entry.requestId === problem.requestId);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'info', statusCode: rejection.status });
    expect(String(logged[0]?.msg)).toMatch(/^request rejected: /);
  });

  it('a valid request among them is served as usual', async () => {
    const { responses } = await exchange(port, VALID);
    expect(responses).toHaveLength(1);
    expect(responses[0]?.status).toBe(200);
    expect(responses[0]?.headers['x-request-id']).toMatch(UUID);
    expect(JSON.parse(responses[0]?.body ?? '')).toEqual({ ok: true });
  });

  it('a missing file under /docs/static/ is 404 problem+json, not 405', async () => {
    const { responses } = await exchange(
      port,
      'GET /docs/static/missing.js HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    expect(responses).toHaveLength(1);
    expect(responses[0]?.status).toBe(404);
    expect(responses[0]?.headers.allow).toBeUndefined();
    expect(problemOf(responses[0])).toMatchObject({ status: 404, title: 'Not Found' });
  });
});

describe('after any mix of valid, invalid and abandoned requests', () => {
  it('no request stays active, and each rejection is counted once under route="unmatched"', async () => {
    // Scraped from the separate metrics port, so the scrape itself is neither active nor counted.
    const metricsPort = await freePort();
    const svc = await startService(metricsPort);
    const port = Number(new URL(svc.url).port);
    const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    try {
      const statuses: number[] = [];
      const record = async (run: Promise<{ responses: RawResponse[] }>) => {
        for (const response of (await run).responses) statuses.push(response.status);
      };
      const valid = async () => {
        for (let i = 0; i < 20; i++) {
          const response = await fetch(`${svc.url}/ok`);
          await response.arrayBuffer();
          statuses.push(response.status);
        }
      };
      const invalid = async (round: number) => {
        for (const rejection of REJECTIONS)
          await record(exchange(port, Buffer.from(rejection.request, 'latin1')));
        // Clients that stop mid-request. A half-close is answered 400: the request is incomplete.
        await record(exchange(port, 'GET /ok HTTP/1.1\r\nHost: a\r\nX-Unfinished', { close: 'end' }));
        const partialBody = (url: string) =>
          `POST ${url} HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nabc`;
        await record(exchange(port, partialBody('/echo'), { close: 'end' }));
        // A reset leaves nobody to answer. It is sent once the server has read the request's head:
        // a reset that overtakes unread bytes can reach the server as a plain end of stream.
        const upload = `/echo?round=${round}`;
        await record(exchange(port, partialBody(upload), { when: once(routed, upload), close: 'reset' }));
        // A client that gives up while the handler is still working.
        const slow = `/slow?round=${round}`;
        await record(
          exchange(port, `GET ${slow} HTTP/1.1\r\nHost: a\r\n\r\n`, {
            when: once(routed, slow),
            close: 'destroy',
          }),
        );
      };
      // 200 valid requests over 10 keep-alive clients, 5 rounds of invalid ones at the same time.
      await Promise.all([
        ...Array.from({ length: 10 }, valid),
        ...Array.from({ length: 5 }, (_, round) => invalid(round)),
      ]);
      const rejectedPerRound = REJECTIONS.length + 2; // the two half-closed requests are answered too
      expect(statuses).toHaveLength(200 + 5 * rejectedPerRound);
      expect(statuses.filter((status) => status === 200)).toHaveLength(200);
      expect(statuses.filter((status) => status >= 400)).toHaveLength(5 * rejectedPerRound);

      // The server notices the last closed connections (and the abandoned /slow handlers end)
      // shortly after the clients are done: bounded wait until nothing is active any more.
      let text = await scrape();
      for (let i = 0; i < 50 && total(text, 'http_server_active_requests') !== 0; i++) {
        await delay(100);
        text = await scrape();
      }
      expect(total(text, 'http_server_active_requests')).toBe(0);
      const count = 'http_server_request_duration_seconds_count';
      expect(total(text, count, { route: 'unmatched' })).toBe(5 * rejectedPerRound);
      const parsedByFastify = REJECTIONS.filter((rejection) => rejection.method === 'GET').length;
      expect(total(text, count, { route: 'unmatched', method: 'GET' })).toBe(5 * parsedByFastify);
      expect(total(text, count, { route: 'unmatched', method: '_OTHER' })).toBe(
        5 * (rejectedPerRound - parsedByFastify),
      );
      expect(total(text, count, { route: '/ok', status_code: '200' })).toBe(200);
      // Every request is counted at most once: nothing else was answered.
      expect(total(text, count)).toBe(200 + 5 * rejectedPerRound);
      expect(svc.logs.find('request rejected')).toHaveLength(5 * rejectedPerRound);
    } finally {
      await svc.service.stop();
    }
  });
});
