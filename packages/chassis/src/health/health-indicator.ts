/** `pass` healthy, `warn` healthy with a concern, `fail` unhealthy (health+json vocabulary). */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/** What a check may return; returning nothing means pass. */
export interface IndicatorResult {
  status?: HealthStatus;
  /** A short explanation, shown in the health body. Never put secrets here. */
  output?: string;
  observedValue?: unknown;
  observedUnit?: string;
}

/** A dependency or condition that readiness depends on. */
export interface HealthIndicator {
  /** Key in the body's `checks`, e.g. `postgres` or `rabbitmq:connection`. */
  name: string;
  /** Throwing or returning `{ status: 'fail' }` marks it down. The signal aborts at the timeout. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a check that returns nothing passes
  check(signal: AbortSignal): Promise<IndicatorResult | void> | IndicatorResult | void;
  /** When true (the default), a failure makes the service not ready; otherwise it is a warning. */
  critical?: boolean;
  /** Upper bound in ms; `health.timeoutMs` when omitted. */
  timeoutMs?: number;
}

/** One indicator's outcome, in the shape of a health+json check entry. */
export interface CheckResult {
  componentId: string;
  status: HealthStatus;
  critical: boolean;
  time: string;
  durationMs: number;
  output?: string;
  observedValue?: unknown;
  observedUnit?: string;
}
