import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startTestService } from '../../src/testing/index.js';
import { exchange, total } from './raw-http.js';

const CALLS = 8;
const series = { method: 'GET', route: '/sleep', status_code: '200' };

describe('http_server_request_duration_seconds measures the real request time', () => {
  it.each([
    ['default settings (no access log)', {}],
    ['http.accessLog=true', { accessLog: true }],
  ])('%s: a 200 ms route lands in its bucket, _sum close to the time clients waited', async (_name, http) => {
    const { service, url, logs } = await startTestService({
      overrides: { http, metrics: { runtime: false } },
      setup(svc) {
        svc.http.get('/sleep', async () => {
          await delay(200);
          return { ok: true };
        });
      },
    });
    try {
      // Timed from writing the request to the answer's first byte, on a raw socket: the least
      // client-side work the measure can include.
      const port = Number(new URL(url).port);
      let waited = 0;
      let quick = 0;
      for (let i = 0; i < CALLS; i++) {
        const { responses, firstByteMs = Number.NaN } = await exchange(
          port,
          'GET /sleep HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
        );
        expect(responses[0]?.status).toBe(200);
        waited += firstByteMs;
        // Quick enough for the 250 ms bucket with 10 ms to spare for the server closing the response.
        if (firstByteMs <= 240) quick++;
      }
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const name = 'http_server_request_duration_seconds';
      expect(total(metrics, `${name}_count`, series)).toBe(CALLS);
      expect(total(metrics, `${name}_bucket`, { ...series, le: '0.1' })).toBe(0);
      // Every call, unless an overloaded machine held one back: the server's measure lies within the
      // client's, so each call the client saw answered in time is in the bucket.
      expect(quick).toBeGreaterThan(0);
      expect(total(metrics, `${name}_bucket`, { ...series, le: '0.25' })).toBeGreaterThanOrEqual(quick);
      const sum = total(metrics, `${name}_sum`, series) ?? Number.NaN;
      expect(sum).toBeGreaterThanOrEqual(CALLS * 0.2 * 0.99);
      expect(Math.abs(sum - waited / 1000)).toBeLessThanOrEqual(0.2 * (waited / 1000));
      const logged = logs.find('request completed').filter((entry) => entry.route === '/sleep');
      expect(logged).toHaveLength('accessLog' in http ? CALLS : 0);
    } finally {
      await service.stop();
    }
  });
});
