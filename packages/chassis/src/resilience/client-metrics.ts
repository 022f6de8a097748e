import type { Counter, Gauge } from 'prom-client';
import type { FastHistogram, ServiceMetrics } from '../metrics/index.js';

/** Why a call was refused or cut short by a policy: the `reason` label of the rejections counter. */
export type RejectionReason = 'timeout' | 'circuit_open' | 'bulkhead_full' | 'retry_budget';

/** Circuit states as the gauge reports them. */
export const CIRCUIT_STATE_VALUES = { closed: 0, open: 1, half_open: 2, isolated: 3 } as const;

// The OpenTelemetry HTTP client buckets, in seconds.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** The metrics every HTTP client of a service shares, labelled by client. */
export interface ClientMetrics {
  duration: FastHistogram<'client' | 'method' | 'status_code'>;
  retries: Counter<'client'>;
  rejections: Counter<'client' | 'reason'>;
  circuitState: Gauge<'client'>;
}

export function createClientMetrics(metrics: ServiceMetrics): ClientMetrics {
  return {
    duration: metrics.fastHistogram({
      name: 'http_client_request_duration_seconds',
      help: 'Duration of each outgoing HTTP attempt, by client, method and status code ("error" when no response came).',
      buckets: DURATION_BUCKETS,
    }),
    retries: metrics.counter({
      name: 'http_client_retries_total',
      help: 'Attempts that were retries of a failed attempt, by client.',
      labelNames: ['client'],
    }),
    rejections: metrics.counter({
      name: 'http_client_rejections_total',
      help: 'Calls refused or cut short by a policy, each counted once by the reason that ended it: timeout, circuit_open, bulkhead_full or retry_budget.',
      labelNames: ['client', 'reason'],
    }),
    circuitState: metrics.gauge({
      name: 'http_client_circuit_state',
      help: 'Circuit breaker state by client: 0 closed, 1 open, 2 half-open, 3 isolated.',
      labelNames: ['client'],
    }),
  };
}
