import { once } from 'node:events';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startTestService } from '../../src/testing/index.js';
import { exchange, openSocket, parseResponses, problemOf, total } from './raw-http.js';

/** Headers complete, a body announced, and then nothing: the request never finishes arriving. */
const STALLED_UPLOAD =
  'POST /upload HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\n';

async function start(http: Record<string, number>) {
  let aborted: (reason: unknown) => void = () => {};
  const handlerAborted = new Promise<unknown>((resolve) => {
    aborted = resolve;
  });
  const svc = await startTestService({
    overrides: { http, metrics: { runtime: false } },
    setup(service) {
      service.http.post('/upload', async (request) => ({ bytes: String(request.body).length }));
      service.http.get('/ok', async () => ({ ok: true }));
      // Never answers; reports when the chassis cancels it through request.signal.
      service.http.get('/hang', (request) => {
        request.signal.addEventListener('abort', () => aborted(request.signal.reason));
        return new Promise(() => {});
      });
    },
  });
  return { ...svc, port: Number(new URL(svc.url).port), handlerAborted };
}

/** The one 408 of a connection whose request did not arrive in time, logged and counted. */
async function expectRequestTimeout(svc: Awaited<ReturnType<typeof start>>, request: string) {
  const { responses, firstByteMs, closedMs } = await exchange(svc.port, request, { waitMs: 8000 });
  expect(responses).toHaveLength(1);
  expect(responses[0]?.status).toBe(408);
  const problem = problemOf(responses[0]);
  expect(problem).toMatchObject({ type: 'about:blank', title: 'Request Timeout', status: 408 });
  expect(closedMs).toBeDefined();
  const [logged] = svc.logs.entries().filter((entry) => entry.requestId === problem.requestId);
  expect(String(logged?.msg)).toMatch(/^request rejected: /);
  const metrics = await (await fetch(`${svc.url}/metrics`)).text();
  expect(
    total(metrics, 'http_server_request_duration_seconds_count', {
      route: 'unmatched',
      status_code: '408',
    }),
  ).toBe(1);
  return firstByteMs ?? Number.NaN;
}

describe('HTTP timeouts and limits, from a raw client', () => {
  it('http.requestTimeoutMs=3000: a client that stalls after its headers gets 408 problem+json in 3-4 s', async () => {
    const svc = await start({ requestTimeoutMs: 3000 });
    try {
      const elapsed = await expectRequestTimeout(svc, STALLED_UPLOAD);
      expect(elapsed).toBeGreaterThanOrEqual(3000);
      expect(elapsed).toBeLessThan(4000);
    } finally {
      await svc.service.stop();
    }
  });

  it('http.headersTimeoutMs=2000: a client that never finishes its headers gets 408 problem+json in 2-3 s', async () => {
    const svc = await start({ headersTimeoutMs: 2000 });
    try {
      const elapsed = await expectRequestTimeout(svc, 'GET /ok HTTP/1.1\r\nHost: a\r\nAccept: ');
      expect(elapsed).toBeGreaterThanOrEqual(2000);
      expect(elapsed).toBeLessThan(3000);
    } finally {
      await svc.service.stop();
    }
  });

  it('http.handlerTimeoutMs=500: a handler that never answers gets 503 problem+json and its signal aborted', async () => {
    const svc = await start({ handlerTimeoutMs: 500 });
    try {
      const request = 'GET /hang HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
      const { responses, firstByteMs } = await exchange(svc.port, request);
      expect(responses).toHaveLength(1);
      expect(responses[0]?.status).toBe(503);
      expect(responses[0]?.headers['retry-after']).toBe('1');
      expect(problemOf(responses[0])).toMatchObject({ status: 503, title: 'Service Unavailable' });
      expect(firstByteMs).toBeGreaterThanOrEqual(500);
      expect(firstByteMs).toBeLessThan(1500);
      // The handler was told through request.signal by the time its client had the answer.
      const observed = await Promise.race([svc.handlerAborted.then(() => true), delay(0, false)]);
      expect(observed).toBe(true);
    } finally {
      await svc.service.stop();
    }
  });

  it('a request still sending its body when the handler timeout fires gets exactly one response', async () => {
    const svc = await start({ handlerTimeoutMs: 500, requestTimeoutMs: 3000, headersTimeoutMs: 3000 });
    try {
      // Waits past the request timeout: nothing more may arrive for a request already answered.
      const { responses } = await exchange(svc.port, STALLED_UPLOAD, { waitMs: 4500 });
      expect(responses.map((response) => response.status)).toEqual([503]);
    } finally {
      await svc.service.stop();
    }
  });

  it('http.maxConnections=2: a third connection is closed unanswered until one of the two closes', async () => {
    const svc = await start({ maxConnections: 2 });
    const held: Socket[] = [];
    try {
      // Two kept-alive connections, each proven accepted by an answered request.
      for (let i = 0; i < 2; i++) {
        const socket = await openSocket(svc.port);
        held.push(socket);
        socket.write('GET /ok HTTP/1.1\r\nHost: a\r\n\r\n');
        const [chunk] = (await once(socket, 'data')) as [Buffer];
        expect(parseResponses(chunk.toString())[0]?.status).toBe(200);
      }
      const refused = await exchange(svc.port, 'GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', {
        waitMs: 3000,
      });
      expect(refused.responses).toEqual([]);
      expect(refused.closedMs).toBeDefined();

      held.pop()?.destroy();
      // The server sees the close shortly after; a new connection is then served (bounded retries).
      let status: number | undefined;
      for (let attempt = 0; attempt < 20 && status === undefined; attempt++) {
        const { responses } = await exchange(
          svc.port,
          'GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
          { waitMs: 3000 },
        );
        status = responses[0]?.status;
        if (status === undefined) await delay(100);
      }
      expect(status).toBe(200);
    } finally {
      for (const socket of held) socket.destroy();
      await svc.service.stop();
    }
  });
});
