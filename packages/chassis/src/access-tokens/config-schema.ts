import { addConfigFormat, type ConfigSchema } from '../config/index.js';

/** The JWS algorithms a token may be signed with; `none` is not among them on purpose. */
export const JWS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'HS256',
  'HS384',
  'HS512',
] as const;

const KNOWN = new Set<string>(JWS_ALGORITHMS);

// Named formats (not functions in the schema), so the schema's type stays nameable.
addConfigFormat({
  name: 'jws-algorithms',
  description: `a non-empty list of ${JWS_ALGORITHMS.join(', ')} (comma-separated in env and flags)`,
  validate(value: unknown) {
    if (!Array.isArray(value) || value.length === 0) throw new Error('must list at least one algorithm');
    for (const alg of value) {
      if (typeof alg === 'string' && alg.toLowerCase() === 'none')
        throw new Error('"none" is refused: unsigned tokens would be accepted');
      if (typeof alg !== 'string' || !KNOWN.has(alg))
        throw new Error(`unknown algorithm ${JSON.stringify(alg)}`);
    }
  },
  coerce: (value: unknown) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== '')
      : value,
});

addConfigFormat({
  name: 'jwks-url',
  description: 'an http:// or https:// URL, or empty',
  validate(value: unknown) {
    if (value === '') return;
    let url: URL;
    try {
      url = new URL(String(value));
    } catch {
      throw new Error('must be an http:// or https:// URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new Error('must be an http:// or https:// URL');
  },
  coerce: String,
});

export const accessTokensConfigSchema = {
  accessTokens: {
    enabled: {
      doc: 'Require a valid JWT access token (Authorization: Bearer) on every route but the public ones.',
      format: Boolean,
      default: false,
    },
    jwksUrl: {
      doc: "URL of the issuer's JSON Web Key Set (its jwks_uri). Set exactly one of jwksUrl, publicKeyFile and secretFile.",
      format: 'jwks-url',
      default: '',
    },
    jwksCacheMs: {
      doc: 'Time in ms the fetched key set is used before it is fetched again.',
      format: 'nat',
      default: 600000,
    },
    jwksCooldownMs: {
      doc: 'Time in ms after a fetch before a token with an unknown key id may fetch the key set again (key rotation, without letting made-up key ids hammer the issuer).',
      format: 'nat',
      default: 30000,
    },
    jwksTimeoutMs: {
      doc: 'Time in ms a key set fetch may take.',
      format: 'nat',
      default: 5000,
    },
    publicKeyFile: {
      doc: 'Path of a PEM public key (SPKI) or X.509 certificate that verifies the tokens, instead of a key set.',
      format: String,
      default: '',
    },
    secretFile: {
      doc: 'Path of a file holding the shared secret of HS256/HS384/HS512 tokens (at least 32 bytes); ACCESS_TOKENS_SECRET_FILE sets it.',
      format: String,
      default: '',
    },
    cacheSize: {
      doc: 'Verified tokens remembered (by their exact text) so a token sent again skips the signature check; its expiry is still checked on every request, and an entry lasts no longer than jwksCacheMs. 0 disables.',
      format: 'nat',
      default: 1000,
    },
    issuer: {
      doc: 'Expected "iss" claim; empty: not checked.',
      format: String,
      default: '',
    },
    audience: {
      doc: 'Accepted "aud" values: a token must name one of them; empty: not checked (comma-separated in env and flags).',
      format: Array,
      default: [] as string[],
    },
    algorithms: {
      doc: 'Accepted signature algorithms. HS* only with secretFile, the others only with jwksUrl or publicKeyFile; "none" is refused.',
      format: 'jws-algorithms',
      default: ['RS256', 'ES256'] as string[],
    },
    clockToleranceSeconds: {
      doc: 'Leeway in seconds for the exp, nbf and iat checks, for clocks that drift apart.',
      format: 'nat',
      default: 30,
    },
    publicPaths: {
      doc: 'Route URLs (/orders/:id) and path prefixes (/public, /public/*) that need no token; /health/*, the metrics path, /openapi.json and /docs are always public (comma-separated in env and flags).',
      format: Array,
      default: [] as string[],
    },
    rolesClaim: {
      doc: 'Claim holding the roles (a list, or a space-separated string); a dotted path (realm_access.roles) reaches into an object.',
      format: String,
      default: 'roles',
    },
    forward: {
      doc: "Pass the caller's token on (Authorization: Bearer) on calls made through svc.clients while handling its request; an Authorization header set on the call wins.",
      format: Boolean,
      default: true,
    },
    forwardClients: {
      doc: 'Clients the token is forwarded to; empty: all. Name only your own services when some clients reach third parties.',
      format: Array,
      default: [] as string[],
    },
  },
} satisfies ConfigSchema;
