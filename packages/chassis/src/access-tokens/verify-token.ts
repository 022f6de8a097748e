import { errors, type JWTVerifyOptions, jwtVerify } from 'jose';
import { type KeySource, KeysUnavailable, NoKeyForAlgorithm } from './key-source.js';
import { type Principal, toPrincipal } from './principal.js';
import type { AccessTokensSettings } from './settings.js';
import { TokenCache } from './token-cache.js';

/** How a request's token fared; the label of `access_tokens_verified_total`. */
export type Outcome = 'valid' | 'missing' | 'invalid' | 'expired' | 'forbidden' | 'unavailable';

/** A token that was not accepted, with a description safe to send back (it never quotes the token). */
export interface Rejection {
  outcome: 'missing' | 'invalid' | 'expired' | 'unavailable';
  description: string;
  /** An error worth logging: the key set is down, or verification failed unexpectedly. */
  cause?: unknown;
}

export type Verification = { principal: Principal; rejection?: undefined } | { rejection: Rejection };

// RFC 6750's b64token after the scheme; a JWT's three base64url parts fit it.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const SCHEME = /^(\S+)/;

/** The token of an `Authorization: Bearer <token>` header, or why there is none. */
export function bearerToken(header: string | undefined): { token: string } | { rejection: Rejection } {
  if (header === undefined || header.trim() === '')
    return {
      rejection: { outcome: 'missing', description: 'No access token: send Authorization: Bearer <token>.' },
    };
  const match = BEARER.exec(header);
  if (match?.[1]) return { token: match[1] };
  const scheme = SCHEME.exec(header)?.[1] ?? '';
  return {
    rejection: {
      outcome: 'invalid',
      description:
        scheme.toLowerCase() === 'bearer'
          ? 'The Authorization header holds no well-formed Bearer token.'
          : 'The Authorization header is not a Bearer token.',
    },
  };
}

/** Verifies a token's signature and claims and returns its principal. */
export interface TokenVerifier {
  /** The principal of a token verified before and still within its time: no promise, no crypto. */
  cached(token: string): Principal | undefined;
  verify(token: string): Promise<Verification>;
}

export function createTokenVerifier(settings: AccessTokensSettings, keys: KeySource): TokenVerifier {
  const cache = new TokenCache({
    max: settings.cacheSize,
    maxAgeMs: settings.jwksCacheMs,
    clockToleranceSeconds: settings.clockToleranceSeconds,
  });
  const options: JWTVerifyOptions = {
    algorithms: settings.algorithms,
    clockTolerance: settings.clockToleranceSeconds,
    // An access token without an expiry would be valid for ever.
    requiredClaims: ['exp'],
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    ...(settings.audience.length > 0 ? { audience: settings.audience } : {}),
  };
  const accepted = settings.algorithms.join(', ');
  const { rolesClaim } = settings;
  const key = keys.key;
  const verify = async (token: string): Promise<Verification> => {
    const hit = cache.get(token);
    if (hit) return { principal: hit };
    try {
      // Two overloads (a key, or a key resolver): one call site for both.
      const { payload } =
        typeof key === 'function'
          ? await jwtVerify(token, key, options)
          : await jwtVerify(token, key, options);
      const principal = toPrincipal(payload, token, rolesClaim);
      cache.set(token, principal);
      return { principal };
    } catch (error) {
      return { rejection: describeFailure(error, accepted) };
    }
  };
  return { cached: (token) => cache.get(token), verify };
}

/** jose's error as an outcome and a description for the caller. */
function describeFailure(error: unknown, accepted: string): Rejection {
  const invalid = (description: string): Rejection => ({ outcome: 'invalid', description });
  if (error instanceof errors.JWTExpired)
    return { outcome: 'expired', description: 'The token has expired.' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason } = error;
    if (reason === 'missing') return invalid(`The token has no "${claim}" claim.`);
    if (claim === 'iss') return invalid('The token was not issued by the expected issuer.');
    if (claim === 'aud') return invalid('The token is not meant for this audience.');
    if (claim === 'nbf') return invalid('The token is not valid yet.');
    if (claim === 'iat') return invalid('The token was issued in the future.');
    return invalid(`The token's "${claim}" claim is not valid.`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return invalid(`The token is not signed with an accepted algorithm (${accepted}).`);
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return invalid('The token signature is not valid.');
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof NoKeyForAlgorithm
  )
    return invalid('No key of the issuer matches the token (its "kid" and "alg").');
  if (error instanceof KeysUnavailable)
    return {
      outcome: 'unavailable',
      description: 'The keys that verify access tokens cannot be fetched.',
      cause: error,
    };
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported
  )
    return invalid('The token is not a well-formed signed JWT.');
  // Anything else (a key of the wrong type, an unexpected failure): refused, and logged by the caller.
  return { outcome: 'invalid', description: 'The token cannot be verified.', cause: error };
}
