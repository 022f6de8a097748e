import type { Logger } from 'pino';

/** Where an unhandled error surfaced. */
export type ErrorSource = 'http' | 'consumer' | 'task' | 'process';

/** What the place an error surfaced knows about it; every field but `source` is optional. */
export interface ErrorContext {
  source: ErrorSource;
  /** The HTTP request id (`x-request-id`). */
  requestId?: string;
  /** W3C trace and span ids; filled from the active span when the reporter leaves them out. */
  traceId?: string;
  spanId?: string;
  /** HTTP: the route template (never the raw URL), the method and the status answered. */
  route?: string;
  method?: string;
  statusCode?: number;
  /** Messaging: the message's topic, the consumer's queue, the message id and the failed attempt. */
  topic?: string;
  queue?: string;
  messageId?: string;
  attempt?: number;
  /** Messaging: true when this was the last attempt and the message went to the dead-letter queue. */
  deadLettered?: boolean;
  /** Background tasks: the name given to `ctx.errors.track`. */
  task?: string;
  /** Process: `uncaughtException`, `unhandledRejection`, … */
  origin?: string;
}

/** Receives every reported error, synchronously, in the reporter's async context. */
export type ErrorListener = (error: unknown, context: ErrorContext) => void;

/**
 * The service's error channel (`ctx.errors`): the HTTP server, the consumers, background tasks and
 * the process handlers report unhandled errors here, and exception tracking listens. Without a
 * listener a report costs one size check.
 */
export class ErrorChannel {
  readonly #listeners = new Set<ErrorListener>();
  readonly #log: Logger;
  #reporting = false;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** True while at least one listener is subscribed. */
  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  /**
   * Hands the error to every listener. Returns true when one took it: the caller may then leave
   * the stack out of its own log line, since the listener logs it (once per kind of error).
   */
  report(error: unknown, context: ErrorContext): boolean {
    // A listener that fails on a report must not report again into itself, forever.
    if (this.#listeners.size === 0 || this.#reporting) return false;
    this.#reporting = true;
    try {
      for (const listener of this.#listeners) {
        try {
          listener(error, context);
        } catch (failure) {
          this.#log.warn({ err: failure, source: context.source }, 'an error listener failed');
        }
      }
    } finally {
      this.#reporting = false;
    }
    return true;
  }

  /** Calls the listener on every report; returns a function that removes it. */
  onReport(listener: ErrorListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Watches a background task (a promise, or a function run now): a rejection or throw is reported
   * with `source: 'task'` (and logged when nobody listens), never left unhandled. Resolves to the
   * task's value, or undefined when it failed.
   */
  track<T>(task: PromiseLike<T> | (() => T | PromiseLike<T>), name: string): Promise<T | undefined> {
    let running: PromiseLike<T>;
    try {
      running = typeof task === 'function' ? Promise.resolve(task()) : task;
    } catch (error) {
      running = Promise.reject(error);
    }
    return Promise.resolve(running).then(
      (value) => value,
      (error: unknown) => {
        if (!this.report(error, { source: 'task', task: name }))
          this.#log.error({ err: error, task: name }, 'background task "%s" failed', name);
        return undefined;
      },
    );
  }
}
