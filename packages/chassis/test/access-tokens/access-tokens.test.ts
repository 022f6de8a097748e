import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../../src/testing/index.js';
import {
  AUDIENCE,
  ISSUER,
  plugins,
  type SigningKey,
  signingKey,
  signToken,
  startJwksServer,
  tamper,
  unsignedToken,
} from './token-kit.js';

let rsa: SigningKey;
let ec: SigningKey;
let jwks: Awaited<ReturnType<typeof startJwksServer>>;
let started: TestService<unknown>;
let url: string;

beforeAll(async () => {
  [rsa, ec] = await Promise.all([signingKey('RS256', 'rsa-1'), signingKey('ES256', 'ec-1')]);
  jwks = await startJwksServer([rsa.jwk, ec.jwk]);
  started = (await startTestService({
    name: 'orders',
    plugins,
    overrides: {
      accessTokens: {
        enabled: true,
        jwksUrl: jwks.url,
        issuer: ISSUER,
        audience: [AUDIENCE],
        publicPaths: ['/public', '/catalog/:sku'],
      },
    },
    setup(svc) {
      svc.http.get('/orders', async (request) => ({
        subject: request.principal?.subject,
        scopes: request.principal?.scopes,
        roles: request.principal?.roles,
      }));
      svc.http.post('/orders', { config: { auth: { scopes: ['orders:write'] } } }, async () => ({
        created: true,
      }));
      svc.http.delete('/orders/:id', { config: { auth: { roles: ['admin', 'support'] } } }, async () => ({
        deleted: true,
      }));
      svc.http.get('/open', { config: { auth: false } }, async (request) => ({
        principal: request.principal ?? null,
      }));
      svc.http.get('/public/info', async () => ({ info: true }));
      svc.http.get('/public/audit', { config: { auth: { roles: ['auditor'] } } }, async () => ({}));
      svc.http.get('/catalog/:sku', async () => ({ sku: true }));
      svc.http.get('/whoami', async (request) => JSON.parse(JSON.stringify(request.principal)));
    },
  })) as TestService<unknown>;
  url = started.url;
});

afterAll(async () => {
  await started?.service.stop();
  await jwks?.close();
});

const call = (path: string, token?: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...init.headers },
  });

async function expectRefused(response: Response, status: number, error: string | undefined, detail: RegExp) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const body = (await response.json()) as Record<string, unknown>;
  expect(body.status).toBe(status);
  expect(body.detail).toMatch(detail);
  expect(body.requestId).toBeTypeOf('string');
  const challenge = response.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^Bearer realm="orders"/);
  if (error) {
    expect(challenge).toContain(`error="${error}"`);
    expect(challenge).toContain('error_description="');
  } else expect(challenge).toBe('Bearer realm="orders"');
  return { body, challenge };
}

describe('access tokens: verification', () => {
  it('accepts an RS256 and an ES256 token from the key set and exposes the principal', async () => {
    for (const key of [rsa, ec]) {
      const token = await signToken(key, { claims: { scope: 'orders:read orders:write', roles: ['clerk'] } });
      const response = await call('/orders', token);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        subject: 'user-1',
        scopes: ['orders:read', 'orders:write'],
        roles: ['clerk'],
      });
    }
  });

  it('keeps the token itself out of a serialised principal', async () => {
    const token = await signToken(rsa);
    const body = (await (await call('/whoami', token)).json()) as Record<string, unknown>;
    expect(body.subject).toBe('user-1');
    expect(JSON.stringify(body)).not.toContain(token);
    expect(body).not.toHaveProperty('token');
  });

  it('asks for a token when there is none, with a bare challenge', async () => {
    await expectRefused(await call('/orders'), 401, undefined, /No access token/);
  });

  it('refuses an expired token', async () => {
    // Beyond the 30 s clock tolerance.
    const token = await signToken(rsa, { expiresIn: -120 });
    await expectRefused(await call('/orders', token), 401, 'invalid_token', /expired/);
  });

  it('refuses a token for another audience or from another issuer', async () => {
    const otherAudience = await signToken(rsa, { audience: 'billing-api' });
    await expectRefused(await call('/orders', otherAudience), 401, 'invalid_token', /audience/);
    const otherIssuer = await signToken(rsa, { issuer: 'https://evil.example.test' });
    await expectRefused(await call('/orders', otherIssuer), 401, 'invalid_token', /issuer/);
  });

  it('refuses a tampered signature', async () => {
    const token = tamper(await signToken(ec));
    await expectRefused(await call('/orders', token), 401, 'invalid_token', /signature/);
  });

  it('refuses an unsigned alg:none token', async () => {
    const token = unsignedToken({ scope: 'orders:write' });
    await expectRefused(await call('/orders', token), 401, 'invalid_token', /algorithm/);
  });

  it('refuses a token whose kid the issuer does not know', async () => {
    const stranger = await signingKey('ES256', 'unknown-kid');
    await expectRefused(await call('/orders', await signToken(stranger)), 401, 'invalid_token', /No key/);
  });

  it('refuses malformed Authorization headers with clear descriptions', async () => {
    const cases: [string, RegExp][] = [
      ['Bearer', /no well-formed Bearer token/],
      ['Bearer    ', /no well-formed Bearer token/],
      ['Basic dXNlcjpwYXNz', /not a Bearer token/],
      ['garbage', /not a Bearer token/],
      ['Bearer not.a.jwt', /not a well-formed signed JWT/],
      ['Bearer abc', /not a well-formed signed JWT/],
      ['Bearer a"b', /no well-formed Bearer token/],
    ];
    for (const [header, detail] of cases) {
      const response = await call('/orders', undefined, { headers: { authorization: header } });
      const { challenge } = await expectRefused(response, 401, 'invalid_token', detail);
      // Nothing of what was sent comes back.
      expect(challenge).not.toContain('dXNlcjpwYXNz');
    }
  });

  it('never logs a token', async () => {
    const token = await signToken(rsa, { expiresIn: -120 });
    await call('/orders', token);
    await call('/orders', tamper(token));
    expect(started.logs.raw.join('\n')).not.toContain(token.split('.')[2]?.slice(0, 20));
  });
});

describe('access tokens: public routes and RBAC', () => {
  it('leaves config.auth=false routes, publicPaths and the built-in endpoints open', async () => {
    const open = await call('/open');
    expect(open.status).toBe(200);
    expect(await open.json()).toEqual({ principal: null });
    expect((await call('/public/info')).status).toBe(200);
    // A route's own config.auth wins over publicPaths.
    expect((await call('/public/audit')).status).toBe(401);
    expect((await call('/catalog/A-1')).status).toBe(200);
    expect((await call('/health/ready')).status).toBe(200);
    expect((await call('/health/live')).status).toBe(200);
    expect((await call('/metrics')).status).toBe(200);
    expect((await call('/openapi.json')).status).toBe(200);
  });

  it('protects unknown paths too, and lets CORS preflights through', async () => {
    expect((await call('/nowhere')).status).toBe(401);
    expect((await call('/publication')).status).toBe(401);
    expect((await call('/public/nowhere')).status).toBe(404);
    const token = await signToken(rsa);
    expect((await call('/nowhere', token)).status).toBe(404);
    const preflight = await call('/orders', undefined, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.test', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).not.toBe(401);
  });

  it('answers 403 insufficient_scope when a scope is missing', async () => {
    const reader = await signToken(rsa, { claims: { scope: 'orders:read' } });
    const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };
    const { challenge } = await expectRefused(
      await call('/orders', reader, post),
      403,
      'insufficient_scope',
      /lacks the scope orders:write/,
    );
    expect(challenge).toContain('scope="orders:write"');
    // `scp` as a list counts too.
    const writer = await signToken(ec, { claims: { scp: ['orders:write'] } });
    expect((await call('/orders', writer, post)).status).toBe(200);
  });

  it('needs one of the roles', async () => {
    const clerk = await signToken(rsa, { claims: { roles: ['clerk'] } });
    await expectRefused(
      await call('/orders/1', clerk, { method: 'DELETE' }),
      403,
      'insufficient_scope',
      /none of the roles admin, support/,
    );
    const support = await signToken(rsa, { claims: { roles: 'viewer support' } });
    expect((await call('/orders/1', support, { method: 'DELETE' })).status).toBe(200);
  });

  it('counts every outcome', async () => {
    const text = await (await call('/metrics')).text();
    for (const outcome of ['valid', 'missing', 'invalid', 'expired', 'forbidden'])
      expect(text).toMatch(new RegExp(`access_tokens_verified_total\\{outcome="${outcome}"\\} [1-9]`));
    expect(text).toContain('access_tokens_verified_total{outcome="unavailable"} 0');
  });

  it('refuses a malformed config.auth where the route is added', async () => {
    for (const auth of [{ scope: ['x'] }, { scopes: 'x' }, 'admin']) {
      const attempt = startTestService({
        plugins,
        overrides: { accessTokens: { enabled: true, jwksUrl: jwks.url } },
        setup(svc) {
          svc.http.get('/typo', { config: { auth: auth as never } }, async () => ({}));
        },
      });
      await expect(attempt).rejects.toThrow(/Route GET \/typo: config\.auth must be/);
    }
  });

  it('verifies tokens outside HTTP through ctx.accessTokens.verify', async () => {
    const principal = await started.service.accessTokens.verify(await signToken(ec));
    expect(principal.subject).toBe('user-1');
    await expect(started.service.accessTokens.verify('nope')).rejects.toMatchObject({
      name: 'AccessTokenError',
      outcome: 'invalid',
    });
  });
});
