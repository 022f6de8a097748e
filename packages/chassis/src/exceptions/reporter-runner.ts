import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { ExceptionEvent, ExceptionReporter } from './exception-event.js';

export type ReporterFailure = 'error' | 'timeout' | 'overloaded';

export interface ReporterRunnerOptions {
  timeoutMs: number;
  /** Interval of the warning about one failing reporter: at most one line per reporter per interval. */
  warnEveryMs: number;
  failures: Counter<'reporter' | 'reason'>;
  log: Logger;
}

// A reporter that hangs on every event would otherwise pile up a promise (and a timer) per error.
const MAX_IN_FLIGHT = 100;

interface Slot {
  name: string;
  inFlight: number;
  lastWarnedAt: number;
}

/**
 * Calls the reporters, each isolated from the caller and from the others: a throw, a rejection, a
 * report that outlives the timeout or a backlog beyond MAX_IN_FLIGHT is counted and warned about,
 * never passed on.
 */
export class ReporterRunner {
  readonly #options: ReporterRunnerOptions;
  readonly #slots = new Map<ExceptionReporter, Slot>();
  readonly #pending = new Set<Promise<void>>();

  constructor(options: ReporterRunnerOptions) {
    this.#options = options;
  }

  add(reporter: ExceptionReporter): () => void {
    if (reporter === null || typeof reporter !== 'object' || typeof reporter.report !== 'function')
      throw new TypeError('An exception reporter is an object with a report(event) function');
    const name = typeof reporter.name === 'string' && reporter.name !== '' ? reporter.name : 'anonymous';
    this.#slots.set(reporter, {
      name: name.slice(0, 64),
      inFlight: 0,
      lastWarnedAt: Number.NEGATIVE_INFINITY,
    });
    return () => this.#slots.delete(reporter);
  }

  get size(): number {
    return this.#slots.size;
  }

  run(event: ExceptionEvent): void {
    for (const [reporter, slot] of this.#slots) {
      if (slot.inFlight >= MAX_IN_FLIGHT) {
        this.#failed(slot, 'overloaded', undefined);
        continue;
      }
      this.#settle(slot, () => reporter.report(event));
    }
  }

  /**
   * Flushes every reporter and waits for that and the reports in flight, in parallel: the whole
   * takes at most the timeout.
   */
  async flush(): Promise<void> {
    for (const [reporter, slot] of this.#slots)
      if (reporter.flush) this.#settle(slot, () => reporter.flush?.());
    await Promise.all(this.#pending);
  }

  /** Runs one call; a returned promise is tracked until it settles or times out. */
  #settle(slot: Slot, call: () => void | Promise<void>): void {
    let result: unknown;
    try {
      result = call();
    } catch (error) {
      this.#failed(slot, 'error', error);
      return;
    }
    if (!isThenable(result)) return;
    slot.inFlight++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#options.timeoutMs).unref();
    });
    const settled: Promise<void> = Promise.race([
      Promise.resolve(result).then(() => 'done' as const),
      timeout,
    ])
      .then(
        (outcome) => {
          if (outcome === 'timeout') this.#failed(slot, 'timeout', undefined);
        },
        (error: unknown) => this.#failed(slot, 'error', error),
      )
      .finally(() => {
        clearTimeout(timer);
        slot.inFlight--;
        this.#pending.delete(settled);
      });
    this.#pending.add(settled);
  }

  #failed(slot: Slot, reason: ReporterFailure, error: unknown): void {
    this.#options.failures.inc({ reporter: slot.name, reason });
    const now = performance.now();
    if (now - slot.lastWarnedAt < this.#options.warnEveryMs) return;
    slot.lastWarnedAt = now;
    this.#options.log.warn(
      { ...(error === undefined ? {} : { err: error }), reporter: slot.name, reason },
      'exception reporter "%s" failed (%s); further failures are counted in exceptions_reporter_failures_total',
      slot.name,
      reason,
    );
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
