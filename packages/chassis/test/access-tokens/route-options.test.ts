import { describe, expect, it } from 'vitest';
import { bearerChallenge } from '../../src/access-tokens/challenge.js';
import { toPrincipal } from '../../src/access-tokens/principal.js';
import { missingGrants, parseRouteAuth, publicPathMatcher } from '../../src/access-tokens/route-options.js';
import { bearerToken } from '../../src/access-tokens/verify-token.js';

describe('access tokens: the pieces', () => {
  it('matches public paths by segment, with or without /*', () => {
    const isPublic = publicPathMatcher(['/health/*', '/public', '/docs/', '/orders/:id']);
    for (const path of [
      '/health',
      '/health/ready',
      '/public',
      '/public/a/b',
      '/docs',
      '/docs/x',
      '/orders/:id',
    ])
      expect(isPublic(path), path).toBe(true);
    for (const path of ['/healthz', '/publication', '/', '/orders', '/orders/42', '/orders/:id/items'])
      expect(isPublic(path), path).toBe(false);
    expect(publicPathMatcher(['/*'])('/anything')).toBe(true);
  });

  it('reads Bearer headers strictly', () => {
    expect(bearerToken('Bearer a.b.c')).toEqual({ token: 'a.b.c' });
    expect(bearerToken('bearer  a.b.c ')).toEqual({ token: 'a.b.c' });
    expect(bearerToken(undefined)).toMatchObject({ rejection: { outcome: 'missing' } });
    expect(bearerToken('')).toMatchObject({ rejection: { outcome: 'missing' } });
    for (const header of ['Bearer', 'Bearer a b', 'Bearer a,b', 'Basic a.b.c', 'a.b.c', 'Bearer\ta'])
      expect(bearerToken(header), header).toMatchObject({ rejection: { outcome: 'invalid' } });
  });

  it('parses config.auth and what a principal lacks', () => {
    expect(parseRouteAuth(undefined, 'GET /')).toEqual({ kind: 'token', scopes: [], roles: [] });
    expect(parseRouteAuth(false, 'GET /')).toEqual({ kind: 'public' });
    expect(parseRouteAuth({ scopes: ['a'] }, 'GET /')).toEqual({ kind: 'token', scopes: ['a'], roles: [] });
    expect(() => parseRouteAuth({ scopes: ['a b'] }, 'GET /x')).toThrow(/GET \/x/);
    expect(() => parseRouteAuth(null, 'GET /x')).toThrow(/config\.auth must be/);
    const need = { scopes: ['a', 'b'], roles: ['admin', 'ops'] };
    expect(missingGrants(need, { scopes: ['a', 'b', 'c'], roles: ['ops'] })).toBeUndefined();
    expect(missingGrants(need, { scopes: ['a'], roles: [] })).toEqual({ scopes: ['b'], role: true });
  });

  it('builds RFC 6750 challenges without quotes breaking out', () => {
    expect(bearerChallenge('orders')).toBe('Bearer realm="orders"');
    expect(bearerChallenge('orders', 'insufficient_scope', 'Needs "x"', ['a', 'b'])).toBe(
      `Bearer realm="orders", error="insufficient_scope", error_description="Needs 'x'", scope="a b"`,
    );
  });

  it('takes scopes and roles from the usual claims', () => {
    const nested = toPrincipal({ scp: 'a b', realm_access: { roles: ['admin'] } }, 't', 'realm_access.roles');
    expect(nested).toMatchObject({ subject: undefined, scopes: ['a', 'b'], roles: ['admin'] });
    expect(nested.token).toBe('t');
    const namespaced = toPrincipal(
      { sub: 's', 'https://example.test/roles': 'x y' },
      't',
      'https://example.test/roles',
    );
    expect(namespaced.roles).toEqual(['x', 'y']);
    expect(toPrincipal({ roles: [1, 'ok'] as never }, 't', 'roles').roles).toEqual(['ok']);
    expect(toPrincipal({}, 't', 'constructor').roles).toEqual([]);
  });
});
