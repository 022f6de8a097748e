import {
  BrokenCircuitError,
  type BulkheadPolicy,
  BulkheadRejectedError,
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
  IsolatedCircuitError,
  type RetryPolicy,
  retry,
  SamplingBreaker,
} from 'cockatiel';
import { AttemptSignal, CallDeadline } from './call-cancellation.js';
import type { RejectionReason } from './client-metrics.js';
import type { ClientSettings } from './config-schema.js';
import { clearExpiry, type Expiring, scheduleExpiry } from './deadline-timer.js';
import {
  BulkheadFullError,
  CircuitOpenError,
  ConnectionError,
  type HttpCall,
  TimeoutError,
} from './errors.js';
import { FailFastBreaker } from './fail-fast-breaker.js';
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

/**
 * One attempt of a call. `signal` aborts when the attempt times out or the call is cancelled (its
 * deadline or the caller); the transport ends the request in flight with it.
 */
export type Attempt = (attempt: number, signal: AbortSignal) => Promise<AttemptResponse>;

/** Errors an attempt threw that another attempt may fix, with the attempt that threw them. */
export const retryableErrors = new WeakMap<Error, number>();

type RetryContext = IRetryBackoffContext<unknown>;

/**
 * The policies of one downstream, nested per call as
 * deadline → retry → bulkhead → circuit breaker → attempt timeout → attempt: the deadline bounds
 * everything, each attempt takes its own bulkhead slot and counts in the breaker, and rejections by
 * the bulkhead or an open circuit are never retried. Retry, bulkhead and breaker are cockatiel's.
 * The timeouts are not: cockatiel's timeout policy and an AbortSignal per call cost 7–15 µs of CPU
 * per call on Node 20 (AbortSignal listeners), more than everything else here. Both run on one
 * shared timer instead, and cancel the attempt in flight through a light signal of their own.
 */
export class ClientPolicies {
  readonly retry: RetryPolicy | undefined;
  readonly bulkhead: BulkheadPolicy | undefined;
  readonly breaker: FailFastBreaker | undefined;
  readonly budget: RetryBudget;
  readonly #settings: ClientSettings;
  readonly #onRejected: (reason: RejectionReason) => void;
  /** Outcomes of last attempts that the retry budget refused to repeat. */
  readonly #refusedByBudget = new WeakSet<object>();

  constructor(settings: ClientSettings, onRejected: (reason: RejectionReason) => void = () => {}) {
    this.#settings = settings;
    this.#onRejected = onRejected;
    this.budget = new RetryBudget({
      ratio: settings.retry.budgetRatio,
      minPerSecond: settings.retry.budgetMinPerSecond,
    });
    this.retry = settings.retry.attempts > 0 ? this.#createRetry() : undefined;
    this.breaker =
      settings.breaker.mode !== 'off'
        ? new FailFastBreaker(createBreaker(settings.breaker), settings.breaker.halfOpenAfterMs)
        : undefined;
    const { maxConcurrent, maxQueue } = settings.bulkhead;
    this.bulkhead = maxConcurrent > 0 ? bulkhead(maxConcurrent, maxQueue) : undefined;
  }

  /**
   * Runs a call's attempts under every policy. Rejects with {@link TimeoutError},
   * {@link CircuitOpenError}, {@link BulkheadFullError}, the attempt's own error, or the caller
   * signal's reason. A call a policy refused or cut short is counted once, by the reason that ended it.
   */
  execute(call: HttpCall, attempt: Attempt, signal?: AbortSignal): Promise<AttemptResponse> {
    this.budget.recordCall();
    const deadline = new CallDeadline(call, this.#settings.timeoutMs);
    return new Promise<AttemptResponse>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearExpiry(deadline);
        if (signal && onCallerAbort) signal.removeEventListener('abort', onCallerAbort);
        return true;
      };
      const fail = (error: unknown) => {
        if (!settle()) return;
        const reason = this.#rejectionOf(error);
        if (reason) this.#onRejected(reason);
        reject(error);
      };
      // The deadline (or the caller) cancels the attempt in flight, closing its request, or ends the
      // call at once during a retry backoff or a wait for a bulkhead slot.
      deadline.onAbort = fail;
      const onCallerAbort = signal ? () => deadline.abort(signal.reason) : undefined;
      if (signal && onCallerAbort) {
        if (signal.aborted) return onCallerAbort();
        signal.addEventListener('abort', onCallerAbort, { once: true });
      }
      if (this.#settings.timeoutMs > 0) scheduleExpiry(deadline);
      const retry = this.retry;
      const work = retry
        ? retry.execute((context) => this.#attempt(call, attempt, context.attempt, deadline), deadline.signal)
        : this.#attempt(call, attempt, 0, deadline);
      work.then((response) => {
        if (!settle()) return;
        if (response.retryable && this.#refusedByBudget.has(response)) this.#onRejected('retry_budget');
        resolve(response);
      }, fail);
    });
  }

  #rejectionOf(error: unknown): RejectionReason | undefined {
    if (error instanceof Error && this.#refusedByBudget.has(error)) return 'retry_budget';
    if (error instanceof TimeoutError) return 'timeout';
    if (error instanceof CircuitOpenError) return 'circuit_open';
    if (error instanceof BulkheadFullError) return 'bulkhead_full';
    return undefined;
  }

  /** One attempt through bulkhead and breaker, their rejections as typed errors. */
  async #attempt(call: HttpCall, send: Attempt, n: number, deadline: CallDeadline): Promise<AttemptResponse> {
    if (deadline.aborted) throw deadline.reason;
    const breaker = this.breaker;
    const attempt = () => this.#timed(call, send, n, deadline);
    const guarded = breaker ? () => breaker.execute(attempt, deadline.signal) : attempt;
    try {
      return await (this.bulkhead ? this.bulkhead.execute(guarded, deadline.signal) : guarded());
    } catch (error) {
      if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError)
        throw new CircuitOpenError(call);
      if (error instanceof BulkheadRejectedError) throw new BulkheadFullError(call);
      throw error;
    }
  }

  /**
   * The attempt, cancelled at `attemptTimeoutMs` (on the shared timer) or with its call: undici's
   * own timeouts tick only every half second.
   */
  #timed(call: HttpCall, send: Attempt, n: number, deadline: CallDeadline): Promise<AttemptResponse> {
    if (deadline.aborted) return Promise.reject(deadline.reason);
    return new Promise<AttemptResponse>((resolve, reject) => {
      const signal = new AttemptSignal((reason) => {
        done();
        reject(reason);
      });
      deadline.attempt = signal;
      const ms = this.#settings.attemptTimeoutMs;
      const expiry: Expiring | undefined =
        ms > 0
          ? {
              expiresAt: performance.now() + ms,
              expire: () => {
                const timeout = new TimeoutError(call, 'attempt', ms);
                if (call.idempotent) retryableErrors.set(timeout, n);
                signal.abort(timeout);
              },
            }
          : undefined;
      if (expiry) scheduleExpiry(expiry);
      const done = () => {
        if (expiry) clearExpiry(expiry);
        if (deadline.attempt === signal) deadline.attempt = undefined;
      };
      send(n, signal.signal).then(
        (response) => {
          done();
          resolve(response);
        },
        (error: unknown) => {
          done();
          reject(error);
        },
      );
    });
  }

  #createRetry(): RetryPolicy {
    const settings = this.#settings.retry;
    // Asked after every failed attempt, including the last: the budget is only consulted (and a
    // refusal only counted) when another attempt would otherwise follow.
    const mayRetry = (attempt: number, outcome: object): boolean => {
      if (attempt >= settings.attempts) return false;
      if (this.budget.canRetry()) return true;
      this.#refusedByBudget.add(outcome);
      return false;
    };
    const isRetryable = (reason: unknown): boolean => {
      if (reason instanceof Error) {
        const attempt = retryableErrors.get(reason);
        return attempt !== undefined && mayRetry(attempt, reason);
      }
      const response = reason as AttemptResponse;
      if (!response.retryable) return false;
      if (response.retryAfterMs !== undefined && response.retryAfterMs > settings.maxRetryAfterMs)
        return false;
      return mayRetry(response.attempt, response);
    };
    const policy = retry(handleWhen(isRetryable).orWhenResult(isRetryable), {
      maxAttempts: settings.attempts,
      backoff: retryAfterAware(
        new ExponentialBackoff({
          initialDelay: settings.initialDelayMs,
          maxDelay: settings.maxDelayMs,
          generator: halfJitterGenerator,
        }),
      ),
    });
    policy.onRetry(() => this.budget.recordRetry());
    return policy;
  }
}

function createBreaker(settings: ClientSettings['breaker']): CircuitBreakerPolicy {
  // Failures say the downstream is unwell: no answer, or a 5xx. A 4xx is a healthy downstream
  // refusing a bad call.
  return circuitBreaker(
    handleWhen((e) => e instanceof ConnectionError || e instanceof TimeoutError).orWhenResult(
      (r) => (r as AttemptResponse).status >= 500,
    ),
    {
      halfOpenAfter: settings.halfOpenAfterMs,
      breaker:
        settings.mode === 'consecutive'
          ? new ConsecutiveBreaker(settings.consecutiveFailures)
          : new SamplingBreaker({
              threshold: settings.threshold,
              duration: settings.windowMs,
              minimumRps: settings.minimumRps,
            }),
    },
  );
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
