import { afterEach, describe, expect, it, vi } from 'vitest';
import { toPrincipal } from '../../src/access-tokens/principal.js';
import { TokenCache } from '../../src/access-tokens/token-cache.js';

const NOW = Date.UTC(2030, 0, 1);
const principal = (exp: number | undefined, token = 't') =>
  toPrincipal(exp === undefined ? { sub: 's' } : { sub: 's', exp: exp / 1000 }, token, 'roles');

afterEach(() => {
  vi.useRealTimers();
});

describe('access tokens: the verified-token cache', () => {
  it('answers until the token expires (plus the clock tolerance), then forgets it', () => {
    vi.useFakeTimers({ now: NOW });
    const cache = new TokenCache({ max: 10, maxAgeMs: 600_000, clockToleranceSeconds: 30 });
    const p = principal(NOW + 60_000);
    cache.set('t', p);
    expect(cache.get('t')).toBe(p);
    vi.setSystemTime(NOW + 89_000);
    expect(cache.get('t')).toBe(p);
    vi.setSystemTime(NOW + 90_000);
    expect(cache.get('t')).toBeUndefined();
  });

  it('keeps nothing longer than the key set is cached, and nothing at all with max 0', () => {
    vi.useFakeTimers({ now: NOW });
    const cache = new TokenCache({ max: 10, maxAgeMs: 1000, clockToleranceSeconds: 0 });
    cache.set('t', principal(NOW + 3_600_000));
    vi.setSystemTime(NOW + 1000);
    expect(cache.get('t')).toBeUndefined();
    const off = new TokenCache({ max: 0, maxAgeMs: 600_000, clockToleranceSeconds: 0 });
    off.set('t', principal(NOW + 60_000));
    expect(off.get('t')).toBeUndefined();
    const noExpiry = new TokenCache({ max: 10, maxAgeMs: 600_000, clockToleranceSeconds: 0 });
    noExpiry.set('t', principal(undefined));
    expect(noExpiry.get('t')).toBeUndefined();
  });

  it('drops the oldest entry when full', () => {
    vi.useFakeTimers({ now: NOW });
    const cache = new TokenCache({ max: 2, maxAgeMs: 600_000, clockToleranceSeconds: 0 });
    for (const token of ['a', 'b', 'c']) cache.set(token, principal(NOW + 60_000, token));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.token).toBe('b');
    expect(cache.get('c')?.token).toBe('c');
  });

  it('shares only frozen principals', () => {
    const p = toPrincipal({ sub: 's', scope: 'a', nested: { list: [1] } }, 't', 'roles');
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.scopes)).toBe(true);
    expect(Object.isFrozen((p.claims.nested as { list: number[] }).list)).toBe(true);
  });
});
