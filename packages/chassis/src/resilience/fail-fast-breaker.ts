import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  type IDefaultPolicyContext,
} from 'cockatiel';

/**
 * cockatiel's circuit breaker, with two changes to half-open.
 *
 * cockatiel (3.x) lets one probe through once `halfOpenAfter` has passed, but every call arriving
 * while the probe is in flight waits for it, and all of them are released together when it ends: a
 * hanging probe stalls every caller, and a successful one sends a burst at a downstream that has
 * just recovered. Here the probe is the only call let through; the others fail fast with
 * `BrokenCircuitError`, as when the circuit is open.
 *
 * cockatiel also moves to half-open only when the next call arrives; here the state turns half-open
 * as soon as `halfOpenAfterMs` has passed, so the gauge and health show that a probe is due.
 */
export class FailFastBreaker {
  readonly #inner: CircuitBreakerPolicy;
  readonly #listeners: ((state: CircuitState) => void)[] = [];
  #probeDue = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(inner: CircuitBreakerPolicy, halfOpenAfterMs: number) {
    this.#inner = inner;
    inner.onStateChange((state) => {
      clearTimeout(this.#timer);
      const reported = this.#probeDue && state === CircuitState.HalfOpen;
      this.#probeDue = false;
      if (state === CircuitState.Open)
        this.#timer = setTimeout(() => {
          this.#probeDue = true;
          this.#emit(CircuitState.HalfOpen);
        }, halfOpenAfterMs).unref();
      if (!reported) this.#emit(state);
    });
  }

  get state(): CircuitState {
    return this.#probeDue ? CircuitState.HalfOpen : this.#inner.state;
  }

  onStateChange(listener: (state: CircuitState) => void): void {
    this.#listeners.push(listener);
  }

  execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    // cockatiel is half-open only while its probe is in flight.
    if (this.#inner.state === CircuitState.HalfOpen) return Promise.reject(new BrokenCircuitError());
    return this.#inner.execute(fn, signal);
  }

  /** Stops the half-open timer and the listeners: nothing is reported after the client closed. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#listeners.length = 0;
  }

  #emit(state: CircuitState): void {
    for (const listener of this.#listeners) listener(state);
  }
}
