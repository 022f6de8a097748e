import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { accessTokensPlugin } from '../../src/access-tokens/index.js';
import * as chassis from '../../src/index.js';

/**
 * The plugin for `startTestService({ plugins })`: passed explicitly while the chassis does not
 * build it in, and left out once it does (a plugin registered twice is an error).
 */
export const plugins = 'accessTokensPlugin' in chassis ? [] : [accessTokensPlugin];

export interface SigningKey {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
  spki: () => Promise<string>;
}

/** A fresh key pair with its public JWK (kid, alg, use) as a key set serves it. */
export async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, jwk, spki: () => exportSPKI(publicKey) };
}

export const ISSUER = 'https://id.example.test';
export const AUDIENCE = 'orders-api';

export interface TokenOptions {
  claims?: JWTPayload;
  issuer?: string;
  audience?: string | string[];
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  kid?: string | null;
}

/** A real signed JWT: issuer, audience, subject and a 5-minute expiry unless told otherwise. */
export function signToken(
  key: { alg: string; kid?: string; privateKey: CryptoKey | Uint8Array },
  options: TokenOptions = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const kid = options.kid === undefined ? key.kid : options.kid;
  return new SignJWT({ sub: 'user-1', ...options.claims })
    .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(kid ? { kid } : {}) })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt(now - 10)
    .setExpirationTime(now + (options.expiresIn ?? 300))
    .sign(key.privateKey);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned token (`alg: none`, empty signature), built by hand as an attacker would. */
export function unsignedToken(claims: JWTPayload): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'intruder', iss: ISSUER, aud: AUDIENCE, exp: now + 300, ...claims })}.`;
}

/** The token with one character of its signature changed. */
export function tamper(token: string): string {
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  return `${token.slice(0, -2)}${last}${token.at(-1)}`;
}

/** A loopback JWKS endpoint whose keys can be swapped, counting its fetches. */
export async function startJwksServer(keys: JWK[]) {
  let current = keys;
  let fetches = 0;
  let status = 200;
  const server = createServer((req, res) => {
    fetches++;
    if (req.url !== '/.well-known/jwks.json' || status !== 200) {
      res.writeHead(req.url === '/.well-known/jwks.json' ? status : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: current }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get fetches() {
      return fetches;
    },
    setKeys(next: JWK[]) {
      current = next;
    },
    /** Answers every fetch with this status from now on (200 to recover). */
    setStatus(next: number) {
      status = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
