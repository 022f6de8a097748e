import { readFileSync } from 'node:fs';
import {
  type CryptoKey,
  createRemoteJWKSet,
  errors,
  importSPKI,
  importX509,
  type JWTVerifyGetKey,
  type RemoteJWKSet,
} from 'jose';
import type { ConfigViolation } from '../config/index.js';
import type { AccessTokensSettings } from './settings.js';

/** What verifies signatures: a remote key set, a public key, or a shared secret. */
export interface KeySource {
  readonly kind: 'jwks' | 'public-key' | 'secret';
  /** A key resolver (by the token's `alg` and `kid`) or the one key. */
  readonly key: JWTVerifyGetKey | Uint8Array;
  /** Fetches the remote key set ahead of the first token; undefined for local keys. */
  readonly prefetch?: () => Promise<void>;
  /** Why the last key set fetch failed; undefined while fetches succeed. */
  readonly lastFailure?: () => string | undefined;
}

const MIN_SECRET_BYTES = 32;

const isHmac = (alg: string) => alg.startsWith('HS');

/**
 * Builds the key source from the settings, or records every problem as a violation and returns
 * undefined: no source or more than one, an unreadable or unusable key file, algorithms that do
 * not fit the source (HS with a public key is the classic algorithm-confusion hole).
 */
export async function createKeySource(
  settings: AccessTokensSettings,
  originOf: (key: string) => string,
  violations: ConfigViolation[],
): Promise<KeySource | undefined> {
  const before = violations.length;
  const violate = (key: string, problem: string) =>
    violations.push({ key: `accessTokens.${key}`, problem, origin: originOf(`accessTokens.${key}`) });

  const sources = (['jwksUrl', 'publicKeyFile', 'secretFile'] as const).filter((k) => settings[k] !== '');
  if (sources.length !== 1) {
    violate(
      sources[0] ?? 'jwksUrl',
      sources.length === 0
        ? 'access tokens are enabled but no key is configured: set one of accessTokens.jwksUrl, accessTokens.publicKeyFile, accessTokens.secretFile'
        : `set only one of ${sources.map((k) => `accessTokens.${k}`).join(', ')}`,
    );
    return undefined;
  }
  const hmac = settings.algorithms.filter(isHmac);
  const asymmetric = settings.algorithms.filter((alg) => !isHmac(alg));

  let source: KeySource | undefined;
  if (settings.jwksUrl !== '') {
    if (hmac.length > 0)
      violate(
        'algorithms',
        `${hmac.join(', ')} cannot be used with a key set (accessTokens.jwksUrl): HS algorithms need accessTokens.secretFile`,
      );
    source = remoteKeySource(
      createRemoteJWKSet(new URL(settings.jwksUrl), {
        cacheMaxAge: settings.jwksCacheMs,
        cooldownDuration: settings.jwksCooldownMs,
        timeoutDuration: settings.jwksTimeoutMs,
      }),
    );
  } else if (settings.publicKeyFile !== '') {
    if (hmac.length > 0)
      violate(
        'algorithms',
        `${hmac.join(', ')} cannot be used with a public key (accessTokens.publicKeyFile): HS algorithms need accessTokens.secretFile`,
      );
    const pem = readKeyFile(settings.publicKeyFile, 'publicKeyFile', violate);
    if (pem !== undefined && asymmetric.length > 0) {
      const keys = await importPublicKey(pem, asymmetric);
      if (keys.size === 0)
        violate(
          'publicKeyFile',
          `${settings.publicKeyFile} is not a PEM public key (SPKI) or certificate usable with ${asymmetric.join(', ')} (accessTokens.algorithms)`,
        );
      source = { kind: 'public-key', key: keyByAlgorithm(keys) };
    }
  } else {
    if (asymmetric.length > 0)
      violate(
        'algorithms',
        `${asymmetric.join(', ')} cannot be used with a shared secret (accessTokens.secretFile): list only HS256, HS384 or HS512`,
      );
    const text = readKeyFile(settings.secretFile, 'secretFile', violate);
    if (text !== undefined) {
      const secret = new TextEncoder().encode(text.replace(/\r?\n$/, ''));
      if (secret.length < MIN_SECRET_BYTES)
        violate(
          'secretFile',
          `the secret in ${settings.secretFile} is ${secret.length} bytes; HMAC tokens need at least ${MIN_SECRET_BYTES}`,
        );
      source = { kind: 'secret', key: secret };
    }
  }
  return violations.length > before ? undefined : source;
}

/**
 * A key set behind jose's cache and cooldown. A key set that cannot be fetched (timeout, refused,
 * not 200, not JSON) becomes {@link KeysUnavailable}: the issuer's trouble, not the caller's.
 */
function remoteKeySource(jwks: RemoteJWKSet): KeySource {
  let failure: string | undefined;
  const failed = (error: unknown): never => {
    if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
      throw error;
    failure = error instanceof Error ? describeFetchError(error) : String(error);
    throw new KeysUnavailable(failure, error);
  };
  return {
    kind: 'jwks',
    key: async (header, token) => {
      try {
        const key = await jwks(header, token);
        failure = undefined;
        return key;
      } catch (error) {
        return failed(error);
      }
    },
    prefetch: async () => {
      try {
        await jwks.reload();
        failure = undefined;
      } catch (error) {
        failed(error);
      }
    },
    lastFailure: () => failure,
  };
}

/** The fetch error in words, with the network cause (ECONNREFUSED, ...) when there is one. */
function describeFetchError(error: Error): string {
  const cause = (error.cause as { code?: string; message?: string } | undefined) ?? undefined;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${error.message} (${detail})` : error.message;
}

/** The key set could not be fetched, so no token can be verified for now. */
export class KeysUnavailable extends Error {
  override readonly name = 'KeysUnavailable';
  constructor(reason: string, cause: unknown) {
    super(`the key set cannot be fetched: ${reason}`, { cause });
  }
}

function readKeyFile(
  path: string,
  key: 'publicKeyFile' | 'secretFile',
  violate: (key: string, problem: string) => void,
): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    violate(key, `cannot read ${path} (${reason})`);
    return undefined;
  }
}

/** The key imported once per algorithm it fits (an RSA key fits RS* and PS*, a P-256 key ES256). */
async function importPublicKey(pem: string, algorithms: readonly string[]): Promise<Map<string, CryptoKey>> {
  const certificate = pem.includes('-----BEGIN CERTIFICATE-----');
  const keys = new Map<string, CryptoKey>();
  for (const alg of algorithms) {
    try {
      keys.set(alg, await (certificate ? importX509(pem, alg) : importSPKI(pem, alg)));
    } catch {
      // Not this algorithm's key type: tokens with this alg will find no key.
    }
  }
  return keys;
}

function keyByAlgorithm(keys: ReadonlyMap<string, CryptoKey>): JWTVerifyGetKey {
  return (header) => {
    const key = keys.get(header.alg ?? '');
    if (!key) throw new NoKeyForAlgorithm();
    return key;
  };
}

/** The token's algorithm is allowed, but the configured key is of another type. */
export class NoKeyForAlgorithm extends Error {
  override readonly name = 'NoKeyForAlgorithm';
  constructor() {
    super('the configured public key does not fit the token\'s "alg"');
  }
}
