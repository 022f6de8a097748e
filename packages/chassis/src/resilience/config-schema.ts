import type { ConfigSchema, InferConfig } from '../config/index.js';

/** Values a service can give a client in code; config files, env and flags still override them. */
export interface ClientDefaults {
  baseUrl?: string;
  timeoutMs?: number;
  attemptTimeoutMs?: number;
}

/** The keys of one downstream client, `clients.<name>.*`. */
export function clientConfigSchema(defaults: ClientDefaults = {}) {
  return {
    baseUrl: {
      doc: 'Base URL of the downstream, e.g. http://127.0.0.1:3001. Empty: each attempt asks the resolver (service registry discovery) for an instance.',
      format: String,
      default: defaults.baseUrl ?? '',
    },
    timeoutMs: {
      doc: 'Deadline in ms for a whole call, retries and waits included; 0 disables it.',
      format: 'nat',
      default: defaults.timeoutMs ?? 10000,
    },
    attemptTimeoutMs: {
      doc: 'Time in ms an attempt may take to connect, to receive the response headers, and between two chunks of the body; 0 disables it.',
      format: 'nat',
      default: defaults.attemptTimeoutMs ?? 3000,
    },
    retry: {
      attempts: {
        doc: 'Retries after the first attempt, for transient failures of idempotent calls; 0 disables retries.',
        format: 'nat',
        default: 2,
      },
      initialDelayMs: {
        doc: 'Backoff before the first retry in ms; it doubles per retry, with jitter between half and all of it.',
        format: 'nat',
        default: 100,
      },
      maxDelayMs: {
        doc: 'Longest backoff between two attempts in ms.',
        format: 'nat',
        default: 2000,
      },
      maxRetryAfterMs: {
        doc: 'Longest Retry-After (429/503) honoured, in ms; a downstream asking for a longer wait fails the call at once.',
        format: 'nat',
        default: 10000,
      },
      budgetRatio: {
        doc: 'Retry budget: retries may add at most this share of the calls made in the last 10 s, so retries cannot multiply load during an outage.',
        format: 'ratio',
        default: 0.2,
      },
      budgetMinPerSecond: {
        doc: 'Retries per second always allowed by the budget, so a quiet client can still retry.',
        format: 'nat',
        default: 10,
      },
    },
    breaker: {
      mode: {
        doc: 'Circuit breaker: consecutive (opens after N failures in a row), sampling (opens above a failure rate in a window) or off.',
        format: ['consecutive', 'sampling', 'off'] as const,
        default: 'consecutive',
      },
      consecutiveFailures: {
        doc: 'consecutive mode: failures in a row that open the circuit.',
        format: 'nat',
        default: 5,
      },
      threshold: {
        doc: 'sampling mode: failure rate (0 to 1) within the window that opens the circuit.',
        format: 'ratio',
        default: 0.5,
      },
      windowMs: {
        doc: 'sampling mode: length of the window in ms.',
        format: 'nat',
        default: 10000,
      },
      minimumRps: {
        doc: 'sampling mode: calls per second the window needs before the rate counts.',
        format: 'nat',
        default: 5,
      },
      halfOpenAfterMs: {
        doc: 'Time in ms an open circuit fails fast before one probe call may test the downstream.',
        format: 'nat',
        default: 10000,
      },
      critical: {
        doc: 'An open circuit fails readiness (true) or only shows as a warning in health (false).',
        format: Boolean,
        default: false,
      },
    },
    bulkhead: {
      maxConcurrent: {
        doc: 'Calls in flight to this downstream at most; 0 means no bulkhead.',
        format: 'nat',
        default: 64,
      },
      maxQueue: {
        doc: 'Calls waiting for a slot at most; beyond it calls are rejected at once.',
        format: 'nat',
        default: 64,
      },
    },
  } satisfies ConfigSchema;
}

export type ClientSettings = InferConfig<ReturnType<typeof clientConfigSchema>>;

/** Client names become config keys and env names: `clients.order-api.*`, `CLIENTS_ORDER_API_*`. */
export const CLIENT_NAME = /^[a-z][a-z0-9-]{0,62}$/;
