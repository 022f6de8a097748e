import {
  type Context,
  context as contextApi,
  type Span,
  type SpanOptions,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { newSpanId, newTraceId } from './trace-ids.js';

/**
 * The tracer when no exporter is configured: spans record nothing, but each gets its own span id in
 * the caller's trace (or a new trace), so log lines carry trace ids and outgoing calls continue the
 * trace. The sampled flag is passed on as received, so a downstream that exports keeps the decision.
 */
export class IdOnlyTracer implements Tracer {
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
        : { traceId: newTraceId(), spanId: newSpanId(), traceFlags: TraceFlags.NONE },
    );
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    ctx: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
  ): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = rest.length > 1 ? (rest[0] as SpanOptions) : undefined;
    const parentCtx = rest.length > 2 ? (rest[1] as Context) : contextApi.active();
    const span = this.startSpan(name, options, parentCtx);
    return contextApi.with(trace.setSpan(parentCtx, span), () => fn(span) as ReturnType<F>);
  }
}
