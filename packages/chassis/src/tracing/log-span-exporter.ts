import type { Logger } from 'pino';

/** The fields of a finished span the exporter reads; the SDK's `ReadableSpan` has them all. */
interface FinishedSpan {
  name: string;
  kind: number;
  spanContext(): { traceId: string; spanId: string };
  parentSpanContext?: { spanId: string } | undefined;
  duration: [number, number];
  status: { code: number; message?: string };
  attributes: Record<string, unknown>;
}

const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'];
const STATUSES = ['unset', 'ok', 'error'];

/**
 * `tracing.exporter=console`: each finished span becomes one log line of the service logger, so a
 * developer's terminal (or a JSON log pipeline) shows spans without a collector and without
 * interleaving unstructured output with the logs.
 */
export class LogSpanExporter {
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  export(spans: FinishedSpan[], done: (result: { code: number }) => void): void {
    for (const span of spans) {
      const { traceId, spanId } = span.spanContext();
      this.#log.info(
        {
          span: {
            name: span.name,
            kind: KINDS[span.kind] ?? span.kind,
            traceId,
            spanId,
            parentSpanId: span.parentSpanContext?.spanId,
            durationMs: span.duration[0] * 1e3 + span.duration[1] / 1e6,
            status: STATUSES[span.status.code] ?? span.status.code,
            attributes: span.attributes,
          },
        },
        'span %s',
        span.name,
      );
    }
    done({ code: 0 });
  }

  async shutdown(): Promise<void> {}

  async forceFlush(): Promise<void> {}
}
