import { type Context, context as contextApi, type Span, type SpanOptions, trace } from '@opentelemetry/api';
import { SpanStartingTracer } from './active-span.js';
import { newSpanId, newTraceId, RANDOM_TRACE_ID_FLAG } from './trace-ids.js';

/**
 * The tracer when no exporter is configured: spans record nothing, but each gets its own span id in
 * the caller's trace (or a new trace), so log lines carry trace ids and outgoing calls continue the
 * trace. The flags are passed on as received, so a downstream that exports keeps the sampling
 * decision; a new trace is not sampled and carries the `random` flag.
 */
export class IdOnlyTracer extends SpanStartingTracer {
  startSpan(_name: string, options?: SpanOptions, ctx: Context = contextApi.active()): Span {
    const parent = options?.root ? undefined : trace.getSpanContext(ctx);
    return trace.wrapSpanContext(
      parent && trace.isSpanContextValid(parent)
        ? {
            traceId: parent.traceId,
            spanId: newSpanId(),
            traceFlags: parent.traceFlags,
            ...(parent.traceState ? { traceState: parent.traceState } : {}),
          }
        : { traceId: newTraceId(), spanId: newSpanId(), traceFlags: RANDOM_TRACE_ID_FLAG },
    );
  }
}
