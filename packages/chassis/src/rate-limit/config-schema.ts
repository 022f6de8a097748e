import { addConfigFormat, type ConfigSchema, type InferConfig } from '../config/index.js';
import { checkAllowListEntry } from './allow-list.js';

// Named formats (not functions in the schema), so the schema's type stays nameable and the
// configuration reference can say what each key expects.
addConfigFormat({
  name: 'rate-limit:positive-int',
  description: 'an integer ≥ 1',
  validate(value) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
      throw new Error('must be an integer of at least 1');
  },
  coerce: Number,
});

addConfigFormat({
  name: 'rate-limit:header-name',
  description: 'an HTTP header name, e.g. x-api-key',
  validate(value) {
    if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/.test(value))
      throw new Error("must be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)");
  },
  coerce: (value) => String(value).trim(),
});

addConfigFormat({
  name: 'rate-limit:ip-list',
  description: 'a list of IP addresses or CIDR ranges (JSON array, or comma-separated in env/flags)',
  validate(value) {
    if (!Array.isArray(value)) throw new Error('must be a list of IP addresses or CIDR ranges');
    const bad = value.filter((entry) => !checkAllowListEntry(entry));
    if (bad.length > 0)
      throw new Error(`not an IP address or CIDR range: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  },
  coerce: (value) =>
    String(value)
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== ''),
});

export const rateLimitConfigSchema = {
  rateLimit: {
    enabled: {
      doc: 'Limit the requests each client may make per window; an exceeding request is answered 429 (problem+json, Retry-After and RateLimit-* headers) before its handler runs.',
      format: Boolean,
      default: false,
    },
    max: {
      doc: 'Requests a client may make per window, across every route without a limit of its own (a route sets its own with config.rateLimit: { max, timeWindow }).',
      format: 'rate-limit:positive-int',
      default: 100,
    },
    windowMs: {
      doc: 'Length of the window in ms. Windows are fixed and per client: they start with the first request of the client, whose count starts again when its window ends.',
      format: 'rate-limit:positive-int',
      default: 60000,
    },
    key: {
      doc: 'Who is counted: ip (the client address, after http.trustProxy), subject (request.principal.subject of an authenticated request, the IP otherwise), or header (the value of rateLimit.keyHeader, the IP when it is missing or empty).',
      format: ['ip', 'subject', 'header'] as const,
      default: 'ip',
    },
    keyHeader: {
      doc: 'Header whose value identifies the client when rateLimit.key is header, e.g. an API key header. Only its SHA-256 is kept, never the value.',
      format: 'rate-limit:header-name',
      default: 'x-api-key',
    },
    allowList: {
      doc: 'Client addresses (IPs or CIDR ranges) that are never limited, e.g. monitoring or an internal gateway (comma-separated in env and flags).',
      format: 'rate-limit:ip-list',
      default: [] as string[],
    },
    cacheSize: {
      doc: 'Clients the in-process store tracks at once (least recently seen dropped first; a dropped client starts a fresh window). Per route with a limit of its own.',
      format: 'rate-limit:positive-int',
      default: 10000,
    },
  },
} satisfies ConfigSchema;

export type RateLimitSettings = InferConfig<typeof rateLimitConfigSchema>['rateLimit'];
