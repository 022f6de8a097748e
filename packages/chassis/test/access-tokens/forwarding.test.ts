import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestService } from '../../src/testing/index.js';
import { startScriptedServer } from '../support/scripted-server.js';
import { plugins, type SigningKey, signingKey, signToken, startJwksServer } from './token-kit.js';

let key: SigningKey;
let jwks: Awaited<ReturnType<typeof startJwksServer>>;
let down: Awaited<ReturnType<typeof startScriptedServer>>;

beforeAll(async () => {
  key = await signingKey('ES256', 'ec-1');
  jwks = await startJwksServer([key.jwk]);
  // Echoes the Authorization header it got, so concurrent calls can be told apart.
  down = await startScriptedServer((_n, req) => ({
    body: { authorization: req.headers.authorization ?? null },
  }));
});
afterAll(async () => {
  await jwks?.close();
  await down?.close();
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** A service whose routes call the `down` client; returns the Authorization header down saw. */
async function service(accessTokens: Record<string, unknown> = {}) {
  const started = await startTestService({
    plugins,
    clients: { down: { baseUrl: down.url }, other: { baseUrl: down.url } },
    overrides: { accessTokens: { enabled: true, jwksUrl: jwks.url, ...accessTokens } },
    setup(svc) {
      const seen = async (client: string, headers?: Record<string, string>) =>
        (
          await svc.clients
            .http(client)
            .get<{ authorization: string | null }>('/stock', headers ? { headers } : {})
        ).body;
      svc.http.get('/call', () => seen('down'));
      svc.http.get('/call-other', () => seen('other'));
      // A body is parsed outside the request's async context: the token must survive it.
      svc.http.post('/call', async (request) => {
        await new Promise((r) => setTimeout(r, 1));
        return { ...(await seen('down')), body: request.body };
      });
      svc.http.get('/call-own', () => seen('down', { Authorization: 'Bearer service-own' }));
      svc.http.get(
        '/call-absolute',
        async () => (await svc.clients.http('down').get(`${down.url}/stock`)).body,
      );
      svc.http.get('/public-call', { config: { auth: false } }, () => seen('down'));
    },
  });
  cleanups.push(() => started.service.stop());
  return started;
}

/** A POST whose body arrives after its headers, so fastify reads it on later socket events. */
function slowPost(url: string, token: string, body: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.flushHeaders();
    setTimeout(() => req.end(body), 30);
  });
}

const authorised = (token: string, init: RequestInit = {}) => ({
  ...init,
  headers: { authorization: `Bearer ${token}`, ...init.headers },
});

describe('access tokens: forwarding', () => {
  it("forwards the caller's token on calls through svc.clients made for its request", async () => {
    const { url, service: svc } = await service();
    const token = await signToken(key);
    expect(await (await fetch(`${url}/call`, authorised(token))).json()).toEqual({
      authorization: `Bearer ${token}`,
    });
    expect(await slowPost(`${url}/call`, token, '{"a":1}')).toEqual({
      authorization: `Bearer ${token}`,
      body: { a: 1 },
    });

    // Requests interleaved: each sends its own token on.
    const tokens = await Promise.all(['a', 'b', 'c', 'd'].map((sub) => signToken(key, { claims: { sub } })));
    const seen = await Promise.all(
      tokens.map(
        async (t) =>
          ((await (await fetch(`${url}/call`, authorised(t))).json()) as { authorization: string })
            .authorization,
      ),
    );
    expect(seen).toEqual(tokens.map((t) => `Bearer ${t}`));

    // Outside any request there is no token to forward.
    expect((await svc.clients.http('down').get('/stock')).body).toEqual({ authorization: null });
  });

  it('keeps an Authorization header the call sets itself, and forwards nothing from public routes', async () => {
    const { url } = await service();
    const token = await signToken(key);
    expect(await (await fetch(`${url}/call-own`, authorised(token))).json()).toEqual({
      authorization: 'Bearer service-own',
    });
    expect(await (await fetch(`${url}/public-call`, authorised(token))).json()).toEqual({
      authorization: null,
    });
  });

  it('forwards nothing to an absolute URL, even on a forwarding client', async () => {
    const { url } = await service();
    const token = await signToken(key);
    expect(await (await fetch(`${url}/call-absolute`, authorised(token))).json()).toEqual({
      authorization: null,
    });
    expect(await (await fetch(`${url}/call`, authorised(token))).json()).toEqual({
      authorization: `Bearer ${token}`,
    });
  });

  it('forwards nothing with forward=false, and only to the listed clients with forwardClients', async () => {
    const token = await signToken(key);
    const off = await service({ forward: false });
    expect(await (await fetch(`${off.url}/call`, authorised(token))).json()).toEqual({ authorization: null });

    const listed = await service({ forwardClients: ['down'] });
    expect(await (await fetch(`${listed.url}/call`, authorised(token))).json()).toEqual({
      authorization: `Bearer ${token}`,
    });
    expect(await (await fetch(`${listed.url}/call-other`, authorised(token))).json()).toEqual({
      authorization: null,
    });
  });
});
