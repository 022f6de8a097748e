import type { Expiring } from './deadline-timer.js';
import { type HttpCall, TimeoutError } from './errors.js';

/**
 * The cancellation of one attempt, in the shape undici takes as a request's `signal` (`aborted`,
 * `reason`, `addEventListener`): aborting it ends the request in flight and closes its socket. An
 * AbortController per attempt would cost more than the whole policy stack; this is one small object.
 */
export class AttemptSignal {
  aborted = false;
  reason: unknown;
  #listeners: (() => void)[] | undefined;
  readonly #onAbort: (reason: unknown) => void;

  /** `onAbort` runs first, so the attempt's promise settles even if the transport never answers. */
  constructor(onAbort: (reason: unknown) => void) {
    this.#onAbort = onAbort;
  }

  get signal(): AbortSignal {
    return this as unknown as AbortSignal;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.#listeners) this.#listeners.push(listener);
    else this.#listeners = [listener];
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.#listeners?.indexOf(listener) ?? -1;
    if (index >= 0) this.#listeners?.splice(index, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.#onAbort(reason);
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
  }
}

/**
 * The deadline of one call on the shared timer; cockatiel's policies read `aborted` as its signal.
 * When it expires, or the caller aborts, the attempt in flight is cancelled with it.
 */
export class CallDeadline implements Expiring {
  readonly expiresAt: number;
  aborted = false;
  reason: unknown;
  /** The attempt in flight, until it settles or aborts. */
  attempt: AttemptSignal | undefined;
  onAbort: ((reason: unknown) => void) | undefined;
  readonly #call: HttpCall;
  readonly #timeoutMs: number;

  constructor(call: HttpCall, timeoutMs: number) {
    this.#call = call;
    this.#timeoutMs = timeoutMs;
    this.expiresAt = performance.now() + timeoutMs;
  }

  get signal(): AbortSignal {
    return this as unknown as AbortSignal;
  }

  expire(): void {
    this.abort(new TimeoutError(this.#call, 'deadline', this.#timeoutMs));
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    // An attempt in flight fails with the reason and its failure ends the call, once the attempt's
    // bulkhead slot is free again; between attempts the call ends at once.
    if (this.attempt) this.attempt.abort(reason);
    else this.onAbort?.(reason);
  }
}
