import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/index.js';
import { startTestService } from '../../src/testing/index.js';
import { freePort } from '../support/ports.js';
import { AUDIENCE, plugins, type SigningKey, signingKey, signToken, startJwksServer } from './token-kit.js';

const dir = mkdtempSync(join(tmpdir(), 'keelson-access-tokens-'));
const SECRET = 'a shared secret of more than thirty-two bytes';
const secretFile = join(dir, 'secret');
const hmac = { alg: 'HS256', privateKey: new TextEncoder().encode(SECRET) };
let rsa: SigningKey;
let ec: SigningKey;

beforeAll(async () => {
  [rsa, ec] = await Promise.all([signingKey('RS256', 'rsa-1'), signingKey('ES256', 'ec-1')]);
  // A trailing newline, as editors and `echo` leave it.
  writeFileSync(secretFile, `${SECRET}\n`);
  writeFileSync(join(dir, 'rsa.pem'), await rsa.spki());
  writeFileSync(join(dir, 'short'), 'too short');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

type Options = Parameters<typeof startTestService>[0];

async function service(options: Options) {
  const started = await startTestService({
    plugins,
    ...options,
    setup(svc) {
      svc.http.get('/orders', async (request) => ({ subject: request.principal?.subject }));
    },
  });
  cleanups.push(() => started.service.stop());
  const get = (token?: string) =>
    fetch(`${started.url}/orders`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { ...started, get };
}

async function startError(overrides: Record<string, unknown>, env?: Record<string, string>): Promise<Error> {
  try {
    const started = await startTestService({
      plugins,
      overrides,
      ...(env ? { env } : {}),
    });
    await started.service.stop();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the service to refuse to start');
}

describe('access tokens: static keys', () => {
  it('verifies HS256 tokens with a secret from ACCESS_TOKENS_SECRET_FILE, switched on by env alone', async () => {
    const { get } = await service({
      env: {
        ACCESS_TOKENS_ENABLED: 'true',
        ACCESS_TOKENS_SECRET_FILE: secretFile,
        ACCESS_TOKENS_ALGORITHMS: 'HS256',
        ACCESS_TOKENS_AUDIENCE: AUDIENCE,
      },
    });
    const ok = await get(await signToken(hmac));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ subject: 'user-1' });
    const wrongSecret = { alg: 'HS256', privateKey: new TextEncoder().encode(`${SECRET}, but another`) };
    expect((await get(await signToken(wrongSecret))).status).toBe(401);
    // An RS256 token is refused by algorithm before any key is tried.
    const rs = await get(await signToken(rsa));
    expect(rs.status).toBe(401);
    expect(((await rs.json()) as { detail: string }).detail).toMatch(/accepted algorithm \(HS256\)/);
  });

  it('verifies with a PEM public key file', async () => {
    const { get } = await service({
      overrides: {
        accessTokens: { enabled: true, publicKeyFile: join(dir, 'rsa.pem'), algorithms: ['RS256', 'ES256'] },
      },
    });
    expect((await get(await signToken(rsa))).status).toBe(200);
    // ES256 is accepted, but the key is RSA: no key for it.
    const es = await get(await signToken(ec));
    expect(es.status).toBe(401);
    expect(((await es.json()) as { detail: string }).detail).toMatch(/No key/);
    // An HS256 token "signed" with the public key (algorithm confusion) never gets near it.
    const confused = { alg: 'HS256', privateKey: new TextEncoder().encode(await rsa.spki()) };
    expect((await get(await signToken(confused))).status).toBe(401);
  });

  it('switched off, it checks nothing and says so for routes that ask for scopes', async () => {
    const started = await startTestService({
      plugins,
      setup(svc) {
        svc.http.get('/admin', { config: { auth: { roles: ['admin'] } } }, async () => ({ ok: true }));
      },
    });
    cleanups.push(() => started.service.stop());
    expect((await fetch(`${started.url}/admin`)).status).toBe(200);
    expect(started.logs.find('declares config.auth, but accessTokens.enabled is false')).toHaveLength(1);
    expect(started.service.accessTokens.enabled).toBe(false);
    await expect(started.service.accessTokens.verify('x')).rejects.toThrow(/not enabled/);
  });
});

describe('access tokens: configuration errors', () => {
  it('refuses "none" among the algorithms as a config violation', async () => {
    const error = await startError({
      accessTokens: { enabled: true, jwksUrl: 'http://127.0.0.1:1/jwks', algorithms: ['RS256', 'none'] },
    });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/accessTokens\.algorithms: "none" is refused/);
  });

  it('refuses unknown algorithms and a JWKS URL that is not http(s)', async () => {
    const error = await startError({
      accessTokens: { enabled: true, jwksUrl: 'ftp://keys', algorithms: ['RS257'] },
    });
    expect(error.message).toMatch(/accessTokens\.algorithms: unknown algorithm "RS257"/);
    expect(error.message).toMatch(/accessTokens\.jwksUrl: must be an http/);
  });

  it('refuses HS algorithms with a key set, and asymmetric ones with a secret', async () => {
    const jwks = await startError({
      accessTokens: { enabled: true, jwksUrl: 'http://127.0.0.1:1/jwks', algorithms: ['RS256', 'HS256'] },
    });
    expect(jwks.message).toMatch(/accessTokens\.algorithms: HS256 cannot be used with a key set/);
    const secret = await startError({ accessTokens: { enabled: true, secretFile } });
    expect(secret.message).toMatch(
      /accessTokens\.algorithms: RS256, ES256 cannot be used with a shared secret/,
    );
  });

  it('needs exactly one key source', async () => {
    expect((await startError({ accessTokens: { enabled: true } })).message).toMatch(
      /no key is configured: set one of accessTokens\.jwksUrl/,
    );
    const two = await startError({
      accessTokens: {
        enabled: true,
        jwksUrl: 'http://127.0.0.1:1/jwks',
        publicKeyFile: join(dir, 'rsa.pem'),
      },
    });
    expect(two.message).toMatch(/set only one of accessTokens\.jwksUrl, accessTokens\.publicKeyFile/);
  });

  it('names unreadable, unusable and weak key files, and bad public paths, all at once', async () => {
    const error = await startError({
      accessTokens: {
        enabled: true,
        publicKeyFile: join(dir, 'missing.pem'),
        publicPaths: ['public'],
      },
    });
    expect(error.message).toMatch(/accessTokens\.publicKeyFile: cannot read .*missing\.pem \(ENOENT\)/);
    expect(error.message).toMatch(/accessTokens\.publicPaths: "public" does not start with "\/"/);
    const notAKey = await startError({ accessTokens: { enabled: true, publicKeyFile: secretFile } });
    expect(notAKey.message).toMatch(/accessTokens\.publicKeyFile: .* is not a PEM public key/);
    const weak = await startError(
      {},
      {
        ACCESS_TOKENS_ENABLED: 'true',
        ACCESS_TOKENS_SECRET_FILE: join(dir, 'short'),
        ACCESS_TOKENS_ALGORITHMS: 'HS256',
      },
    );
    expect(weak.message).toMatch(
      /accessTokens\.secretFile: .* 9 bytes; HMAC tokens need at least 32 \(from env ACCESS_TOKENS_SECRET_FILE\)/,
    );
  });
});

describe('access tokens: key set', () => {
  it('picks up a rotated key once the cooldown allows, and no sooner', async () => {
    const jwks = await startJwksServer([rsa.jwk]);
    cleanups.push(() => jwks.close());
    const next = await signingKey('RS256', 'rsa-2');

    // A long cooldown: a made-up or brand-new kid cannot make the service fetch again at once.
    const patient = await service({
      overrides: { accessTokens: { enabled: true, jwksUrl: jwks.url, jwksCooldownMs: 600000 } },
    });
    expect((await patient.get(await signToken(rsa))).status).toBe(200);
    jwks.setKeys([next.jwk]);
    const fetchesBefore = jwks.fetches;
    expect((await patient.get(await signToken(next))).status).toBe(401);
    expect(jwks.fetches).toBe(fetchesBefore);

    // A short cooldown: the new key is found by a refetch, the retired one is then refused.
    const quick = await service({
      overrides: { accessTokens: { enabled: true, jwksUrl: jwks.url, jwksCooldownMs: 50 } },
    });
    const token = await signToken(next);
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await quick.get(token)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(200);
    expect((await quick.get(await signToken(rsa))).status).toBe(401);
  });

  it('answers 503 while the key set cannot be fetched, warns in health, and recovers', async () => {
    const jwks = await startJwksServer([ec.jwk]);
    cleanups.push(() => jwks.close());
    jwks.setStatus(500);
    const { get, url, logs } = await service({
      overrides: {
        accessTokens: { enabled: true, jwksUrl: jwks.url, jwksCacheMs: 0, jwksCooldownMs: 0 },
        health: { cacheMs: 0 },
      },
    });
    const token = await signToken(ec);
    const down = await get(token);
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toContain('application/problem+json');
    expect(down.headers.get('retry-after')).toBe('5');
    expect(((await down.json()) as { detail: string }).detail).toMatch(/cannot be fetched/);
    const health = (await (await fetch(`${url}/health/ready`)).json()) as {
      status: string;
      checks: Record<string, { status: string; output?: string }[]>;
    };
    expect(health.status).toBe('warn');
    expect(health.checks['access-tokens:jwks']?.[0]?.output).toMatch(/200 OK/);
    expect(logs.find('the key set cannot be fetched')).not.toHaveLength(0);

    jwks.setStatus(200);
    expect((await get(token)).status).toBe(200);
    const healed = (await (await fetch(`${url}/health/ready`)).json()) as { status: string };
    expect(healed.status, JSON.stringify(healed)).toBe('pass');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/access_tokens_verified_total\{outcome="unavailable"\} [1-9]/);
  });

  it('answers 503, not a crash, when nothing listens at the JWKS URL', async () => {
    const port = await freePort();
    const { get } = await service({
      overrides: { accessTokens: { enabled: true, jwksUrl: `http://127.0.0.1:${port}/jwks` } },
    });
    expect((await get(await signToken(rsa))).status).toBe(503);
    expect((await get()).status).toBe(401);
  });
});
