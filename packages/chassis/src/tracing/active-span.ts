import { type Context, context, type Span, type SpanOptions, type Tracer, trace } from '@opentelemetry/api';

/** A tracer that implements `startSpan`; `startActiveSpan` starts a span with it and runs `fn` in it. */
export abstract class SpanStartingTracer implements Tracer {
  abstract startSpan(name: string, options?: SpanOptions, ctx?: Context): Span;

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
    ...args: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
  ): ReturnType<F> {
    const fn = args[args.length - 1] as F;
    const options = args.length > 1 ? (args[0] as SpanOptions) : undefined;
    const parentCtx = args.length > 2 ? (args[1] as Context) : context.active();
    const span = this.startSpan(name, options, parentCtx);
    return context.with(trace.setSpan(parentCtx, span), () => fn(span) as ReturnType<F>);
  }
}
