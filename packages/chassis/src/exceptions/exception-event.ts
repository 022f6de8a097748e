import type { ErrorContext, ErrorSource } from '../core/index.js';

/** One unhandled error, as reporters receive it. */
export interface ExceptionEvent {
  /** Short hash that groups repeats: error name, normalised message and top in-app frames. */
  readonly fingerprint: string;
  /** True when the fingerprint is beyond `exceptions.maxFingerprints`: counted as "other". */
  readonly groupedAsOther: boolean;
  /** The error's name (its class name when `name` is the inherited "Error"), `NonError` for other values. */
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** The frames the fingerprint was computed from, as `file:function`. */
  readonly frames: readonly string[];
  /** The thrown value itself. */
  readonly error: unknown;
  readonly source: ErrorSource;
  /** Where it happened: request id, trace and span ids, route, topic, message id, attempt, task, … */
  readonly context: Readonly<ErrorContext>;
  /** Occurrences of this fingerprint (or of "other") in this process, this one included. */
  readonly count: number;
  readonly timestamp: Date;
  readonly service: {
    readonly name: string;
    readonly version: string;
    readonly instanceId: string;
    readonly env: string;
  };
}

/**
 * Where exception events go: a log, an error tracker, a chat channel. `report` may return a
 * promise; it is bounded by `exceptions.reporterTimeoutMs`, and a throw, rejection or overrun is
 * counted in `exceptions_reporter_failures_total` without affecting anything else.
 */
export interface ExceptionReporter {
  /** Label of `exceptions_reporter_failures_total` and of warnings; `anonymous` when missing. */
  readonly name?: string;
  report(event: ExceptionEvent): void | Promise<void>;
  /** Sends what is buffered; called at shutdown (the `telemetry` phase), within the same bound. */
  flush?(): void | Promise<void>;
}
