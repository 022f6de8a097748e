import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { Counter, Gauge } from 'prom-client';
import type { ErrorContext } from '../core/index.js';
import type { ExceptionEvent, ExceptionReporter } from './exception-event.js';
import { describeError } from './fingerprint.js';
import type { ReporterRunner } from './reporter-runner.js';

/** `ctx.exceptions`: add reporters, read fingerprints, wait for reports in flight. */
export interface ExceptionTracking {
  /** `exceptions.enabled`: when false nothing is tracked and reporters receive nothing. */
  readonly enabled: boolean;
  /** Adds a reporter (an error tracker, say); returns a function that removes it. */
  addReporter(reporter: ExceptionReporter): () => void;
  /** The fingerprint the tracker would give this error. */
  fingerprint(error: unknown): string;
  /** Resolves once every report in flight has finished or timed out, and reporters flushed. */
  flush(): Promise<void>;
}

export interface ExceptionTrackerOptions {
  service: ExceptionEvent['service'];
  maxFingerprints: number;
  stackFrames: number;
  reporters: ReporterRunner;
  metrics: {
    exceptions: Counter<'fingerprint' | 'source' | 'name'>;
    fingerprints: Gauge;
  };
  /** Told once, when the first fingerprint beyond the bound arrives. */
  onOverflow(maxFingerprints: number): void;
}

const OTHER = 'other';

/**
 * Turns each reported error into an {@link ExceptionEvent}: fingerprint, count per fingerprint
 * (at most `maxFingerprints` of them, then "other"), `exceptions_total`, trace ids from the active
 * span when the reporter did not pass them, and hands it to the reporters.
 */
export class ExceptionTracker implements ExceptionTracking {
  readonly enabled = true;
  readonly #options: ExceptionTrackerOptions;
  readonly #counts = new Map<string, number>();
  #otherCount = 0;

  constructor(options: ExceptionTrackerOptions) {
    this.#options = options;
  }

  /** The error channel's listener: runs synchronously, in the reporting code's async context. */
  handle(error: unknown, context: ErrorContext): void {
    const { maxFingerprints, stackFrames, metrics, reporters } = this.#options;
    const described = describeError(error, stackFrames);
    let count = this.#counts.get(described.fingerprint);
    const groupedAsOther = count === undefined && this.#counts.size >= maxFingerprints;
    if (groupedAsOther) {
      if (this.#otherCount === 0) this.#options.onOverflow(maxFingerprints);
      count = ++this.#otherCount;
    } else {
      count = (count ?? 0) + 1;
      this.#counts.set(described.fingerprint, count);
      metrics.fingerprints.set(this.#counts.size);
    }
    metrics.exceptions.inc({
      fingerprint: groupedAsOther ? OTHER : described.fingerprint,
      source: context.source,
      name: described.name.slice(0, 64),
    });
    if (reporters.size === 0) return;
    reporters.run({
      fingerprint: described.fingerprint,
      groupedAsOther,
      name: described.name,
      message: described.message,
      stack: described.stack,
      frames: described.frames,
      error,
      source: context.source,
      context: withTraceIds(context),
      count,
      timestamp: new Date(),
      service: this.#options.service,
    });
  }

  addReporter(reporter: ExceptionReporter): () => void {
    return this.#options.reporters.add(reporter);
  }

  fingerprint(error: unknown): string {
    return describeError(error, this.#options.stackFrames).fingerprint;
  }

  flush(): Promise<void> {
    return this.#options.reporters.flush();
  }
}

/** The context with the active span's ids, unless the reporting code passed its own. */
function withTraceIds(context: ErrorContext): ErrorContext {
  if (context.traceId) return context;
  const ids = trace.getActiveSpan()?.spanContext();
  if (!ids || !isSpanContextValid(ids)) return context;
  return { ...context, traceId: ids.traceId, spanId: ids.spanId };
}
