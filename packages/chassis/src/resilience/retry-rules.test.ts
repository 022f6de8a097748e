import { describe, expect, it } from 'vitest';
import { isIdempotentCall, isTransientStatus, parseRetryAfter, wasNotSent } from './retry-rules.js';

describe('retry rules', () => {
  it('treats RFC 9110 idempotent methods, an Idempotency-Key and an explicit mark as repeatable', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
      expect(isIdempotentCall(m, undefined)).toBe(true);
    expect(isIdempotentCall('POST', undefined)).toBe(false);
    expect(isIdempotentCall('PATCH', { 'content-type': 'x' })).toBe(false);
    expect(isIdempotentCall('POST', { 'Idempotency-Key': 'abc' })).toBe(true);
    expect(isIdempotentCall('POST', undefined, true)).toBe(true);
    expect(isIdempotentCall('GET', undefined, false)).toBe(false);
  });

  it('knows the transient statuses', () => {
    expect([429, 502, 503, 504].every(isTransientStatus)).toBe(true);
    expect([400, 404, 409, 500, 501].some(isTransientStatus)).toBe(false);
  });

  it('knows which connection failures never sent the request', () => {
    expect(wasNotSent('ECONNREFUSED')).toBe(true);
    expect(wasNotSent('ECONNRESET')).toBe(false);
    expect(wasNotSent(undefined)).toBe(false);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(['2', '5'], now)).toBe(2000);
    for (const bad of [undefined, '', '-1', '1.5', 'soon', '99999999999'])
      expect(parseRetryAfter(bad, now)).toBeUndefined();
  });
});
