import {
  type BulkheadPolicy,
  bulkhead,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  type FailureReason,
  halfJitterGenerator,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type RetryPolicy,
  retry,
  SamplingBreaker,
  TaskCancelledError,
  type TimeoutPolicy,
  TimeoutStrategy,
  timeout,
} from 'cockatiel';
import type { ClientSettings } from './config-schema.js';
import { ConnectionError } from './errors.js';
import { RetryBudget } from './retry-budget.js';

/** What one attempt produced when the downstream answered. */
export interface AttemptResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** Worth another attempt: a transient status on a call that may be repeated. */
  retryable: boolean;
  /** `Retry-After` of a 429 or 503, in ms. */
  retryAfterMs: number | undefined;
  /** 0 for the first attempt. */
  attempt: number;
}

/** Errors an attempt threw that another attempt may fix, with the attempt that threw them. */
export const retryableErrors = new WeakMap<Error, number>();

/**
 * The cockatiel policies of one downstream. Per call they nest as
 * deadline → retry → bulkhead → circuit breaker → attempt timeout → request: the deadline bounds
 * everything, each attempt takes its own bulkhead slot and counts in the breaker, and rejections
 * by the bulkhead or an open circuit are never retried.
 */
export interface ClientPolicies {
  deadline: TimeoutPolicy;
  retry: RetryPolicy | undefined;
  bulkhead: BulkheadPolicy | undefined;
  breaker: CircuitBreakerPolicy | undefined;
  attemptTimeout: TimeoutPolicy;
  budget: RetryBudget;
  /** Retries the budget refused, by the hook the client counts them with. */
  onBudgetDenied(listener: () => void): void;
}

type RetryContext = IRetryBackoffContext<unknown>;

export function createClientPolicies(settings: ClientSettings): ClientPolicies {
  const budget = new RetryBudget({
    ratio: settings.retry.budgetRatio,
    minPerSecond: settings.retry.budgetMinPerSecond,
  });
  const maxRetries = settings.retry.attempts;
  const denied: (() => void)[] = [];

  // Asked after every failed attempt, including the last: the budget is only consulted (and a
  // refusal only counted) when another attempt would otherwise follow.
  const mayRetry = (attempt: number): boolean => {
    if (attempt >= maxRetries) return false;
    if (budget.canRetry()) return true;
    for (const listener of denied) listener();
    return false;
  };
  const isRetryable = (reason: unknown): boolean => {
    if (reason instanceof Error) {
      const attempt = retryableErrors.get(reason);
      return attempt !== undefined && mayRetry(attempt);
    }
    const response = reason as AttemptResponse;
    if (!response.retryable) return false;
    if (response.retryAfterMs !== undefined && response.retryAfterMs > settings.retry.maxRetryAfterMs)
      return false;
    return mayRetry(response.attempt);
  };

  let retryPolicy: RetryPolicy | undefined;
  if (maxRetries > 0) {
    retryPolicy = retry(handleWhen(isRetryable).orWhenResult(isRetryable), {
      maxAttempts: maxRetries,
      backoff: retryAfterAware(
        new ExponentialBackoff({
          initialDelay: settings.retry.initialDelayMs,
          maxDelay: settings.retry.maxDelayMs,
          generator: halfJitterGenerator,
        }),
      ),
    });
    retryPolicy.onRetry(() => budget.recordRetry());
  }

  let breaker: CircuitBreakerPolicy | undefined;
  const b = settings.breaker;
  if (b.mode !== 'off') {
    // Failures are what says the downstream is unwell: no answer, or a 5xx. A 4xx is a healthy
    // downstream refusing a bad call.
    breaker = circuitBreaker(
      handleWhen((e) => e instanceof ConnectionError || e instanceof TaskCancelledError).orWhenResult(
        (r) => (r as AttemptResponse).status >= 500,
      ),
      {
        halfOpenAfter: b.halfOpenAfterMs,
        breaker:
          b.mode === 'consecutive'
            ? new ConsecutiveBreaker(b.consecutiveFailures)
            : new SamplingBreaker({ threshold: b.threshold, duration: b.windowMs, minimumRps: b.minimumRps }),
      },
    );
  }

  const { maxConcurrent, maxQueue } = settings.bulkhead;
  return {
    deadline: timeout(settings.timeoutMs, TimeoutStrategy.Aggressive),
    retry: retryPolicy,
    bulkhead: maxConcurrent > 0 ? bulkhead(maxConcurrent, maxQueue) : undefined,
    breaker,
    attemptTimeout: timeout(settings.attemptTimeoutMs, TimeoutStrategy.Aggressive),
    budget,
    onBudgetDenied: (listener) => denied.push(listener),
  };
}

/** The exponential backoff, stretched to a `Retry-After` the downstream asked for. */
function retryAfterAware(inner: IBackoffFactory<RetryContext>): IBackoffFactory<RetryContext> {
  const step = (from: IBackoffFactory<RetryContext>, context: RetryContext): IBackoff<RetryContext> => {
    const base = from.next(context);
    const wait = retryAfterOf(context.result);
    return {
      duration: wait === undefined ? base.duration : Math.max(base.duration, wait),
      next: (c) => step(base, c),
    };
  };
  return { next: (context) => step(inner, context) };
}

function retryAfterOf(result: FailureReason<unknown>): number | undefined {
  return 'value' in result ? (result.value as AttemptResponse).retryAfterMs : undefined;
}
