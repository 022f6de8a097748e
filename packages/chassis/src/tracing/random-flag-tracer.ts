import {
  type Context,
  context,
  isSpanContextValid,
  type Span,
  type SpanOptions,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { SpanStartingTracer } from './active-span.js';
import { RANDOM_TRACE_ID_FLAG } from './trace-ids.js';

/**
 * Decorates the OpenTelemetry SDK's tracer with the Level 2 `random` trace flag, which the SDK
 * does not write (it sets only the sampled bit): a span of a new trace gets it, because the SDK
 * draws its trace ids from the chassis's random generator; a span continuing a trace gets it when
 * the parent had it. The flag is set on the span context the SDK made for this span alone, so it
 * costs no allocation and the exported span carries the same flags as the propagated header.
 */
export class RandomFlagTracer extends SpanStartingTracer {
  readonly #sdk: Tracer;

  constructor(sdk: Tracer) {
    super();
    this.#sdk = sdk;
  }

  startSpan(name: string, options?: SpanOptions, ctx: Context = context.active()): Span {
    const span = this.#sdk.startSpan(name, options, ctx);
    const ids = span.spanContext();
    // An invalid context is the SDK's shared INVALID_SPAN_CONTEXT (tracing suppressed): never touch it.
    if (!isSpanContextValid(ids) || ids.traceFlags & RANDOM_TRACE_ID_FLAG) return span;
    const parent = options?.root ? undefined : trace.getSpanContext(ctx);
    const continued = parent !== undefined && isSpanContextValid(parent) && parent.traceId === ids.traceId;
    if (!continued || parent.traceFlags & RANDOM_TRACE_ID_FLAG) ids.traceFlags |= RANDOM_TRACE_ID_FLAG;
    return span;
  }
}
