import { type Context, context, type Span, type SpanOptions, type Tracer, trace } from '@opentelemetry/api';

/** The optional arguments of `Tracer.startActiveSpan`, the callback last. */
export type ActiveSpanArgs<F> = [F] | [SpanOptions, F] | [SpanOptions, Context, F];

/** `Tracer.startActiveSpan` for a tracer that implements `startSpan`: start, then run `fn` in it. */
export function startActiveSpan<F extends (span: Span) => unknown>(
  tracer: Pick<Tracer, 'startSpan'>,
  name: string,
  args: ActiveSpanArgs<F>,
): ReturnType<F> {
  const fn = args[args.length - 1] as F;
  const options = args.length > 1 ? (args[0] as SpanOptions) : undefined;
  const parentCtx = args.length > 2 ? (args[1] as Context) : context.active();
  const span = tracer.startSpan(name, options, parentCtx);
  return context.with(trace.setSpan(parentCtx, span), () => fn(span) as ReturnType<F>);
}
