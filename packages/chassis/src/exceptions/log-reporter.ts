import type { Logger } from 'pino';
import type { ExceptionEvent, ExceptionReporter } from './exception-event.js';

interface Group {
  lastLoggedAt: number;
  /** Repeats since the last line. */
  pending: number;
  last: ExceptionEvent;
  timer: NodeJS.Timeout | undefined;
}

const MAX_MESSAGE_IN_LINE = 200;

/**
 * The default reporter: the first occurrence of a fingerprint is logged at error level with its
 * stack and context; repeats are counted and summarised in one line at most once per interval,
 * so an error on every request does not flood the log. Memory is bounded by the tracker, which
 * hands over at most `maxFingerprints` distinct fingerprints plus "other".
 */
export class LogReporter implements ExceptionReporter {
  readonly name = 'log';
  readonly #log: Logger;
  readonly #everyMs: number;
  readonly #groups = new Map<string, Group>();

  constructor(log: Logger, options: { everyMs: number }) {
    this.#log = log;
    this.#everyMs = options.everyMs;
  }

  report(event: ExceptionEvent): void {
    const key = event.groupedAsOther ? 'other' : event.fingerprint;
    const group = this.#groups.get(key);
    if (!group) {
      this.#groups.set(key, { lastLoggedAt: performance.now(), pending: 0, last: event, timer: undefined });
      this.#logFirst(event);
      return;
    }
    group.pending++;
    group.last = event;
    if (group.timer) return;
    const due = group.lastLoggedAt + this.#everyMs - performance.now();
    if (due <= 0) this.#summarise(key, group);
    else group.timer = setTimeout(() => this.#summarise(key, group), due).unref();
  }

  /** Logs the summaries still pending (at shutdown). */
  flush(): void {
    for (const [key, group] of this.#groups) if (group.pending > 0) this.#summarise(key, group);
  }

  #logFirst(event: ExceptionEvent): void {
    try {
      this.#writeFirst(
        event,
        event.error instanceof Error ? { err: event.error } : { thrown: event.message },
      );
    } catch {
      // The serializer read a property that throws: log what the tracker already read safely.
      this.#writeFirst(event, { err: { type: event.name, message: event.message, stack: event.stack } });
    }
  }

  #writeFirst(event: ExceptionEvent, thrown: Record<string, unknown>): void {
    this.#log.error(
      {
        ...thrown,
        ...contextFields(event),
        fingerprint: event.groupedAsOther ? 'other' : event.fingerprint,
        errorName: event.name,
        frames: event.frames,
      },
      'unhandled error in %s: %s: %s',
      event.source,
      event.name,
      event.message.slice(0, MAX_MESSAGE_IN_LINE),
    );
  }

  #summarise(key: string, group: Group): void {
    clearTimeout(group.timer);
    group.timer = undefined;
    const { last, pending } = group;
    group.pending = 0;
    group.lastLoggedAt = performance.now();
    this.#log.error(
      {
        fingerprint: key,
        errorName: last.name,
        repeats: pending,
        total: last.count,
        // The latest occurrence, to find one example request or trace.
        last: contextFields(last),
      },
      'unhandled error repeated %d times: %s: %s',
      pending,
      last.name,
      last.message.slice(0, MAX_MESSAGE_IN_LINE),
    );
  }
}

/** The event's context, with the ids named as on every other log line. */
function contextFields(event: ExceptionEvent): Record<string, unknown> {
  const { traceId, spanId, ...rest } = event.context;
  return {
    ...rest,
    ...(traceId ? { trace_id: traceId } : {}),
    ...(spanId ? { span_id: spanId } : {}),
  };
}
