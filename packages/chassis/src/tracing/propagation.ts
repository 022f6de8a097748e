import {
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { W3CBaggagePropagator } from './w3c-baggage.js';
import { W3CTraceContextPropagator } from './w3c-trace-context.js';

/** A header map: HTTP request headers, AMQP message headers, an outbox row's header column. */
export type HeaderCarrier = Record<string, unknown>;

/** `traceparent` + `tracestate` + `baggage`, in and out. */
export class W3CPropagator implements TextMapPropagator {
  readonly #parts: TextMapPropagator[] = [new W3CTraceContextPropagator(), new W3CBaggagePropagator()];
  readonly #fields = this.#parts.flatMap((p) => p.fields());

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter = defaultTextMapSetter): void {
    for (const part of this.#parts) part.inject(ctx, carrier, setter);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter = defaultTextMapGetter): Context {
    let result = ctx;
    for (const part of this.#parts) result = part.extract(result, carrier, getter);
    return result;
  }

  fields(): string[] {
    return this.#fields;
  }
}

export const w3cPropagator = new W3CPropagator();

/**
 * Writes the trace context (and baggage) of `ctx`, the active context by default, into a header
 * map: for outgoing requests and for message headers.
 */
export function injectTraceContext(carrier: HeaderCarrier, ctx: Context = context.active()): void {
  w3cPropagator.inject(ctx, carrier, defaultTextMapSetter);
}

/**
 * Reads `traceparent`, `tracestate` and `baggage` from a header map (lower-case keys) into a
 * context derived from `ctx`. Invalid headers are ignored as the W3C specification says: the
 * result then starts a new trace.
 */
export function extractTraceContext(carrier: HeaderCarrier, ctx: Context = context.active()): Context {
  return w3cPropagator.extract(ctx, carrier, defaultTextMapGetter);
}

let installed = false;

/** Makes the W3C propagator the API's global one, once, for libraries that use `propagation`. */
export function ensureGlobalPropagator(): void {
  if (installed) return;
  installed = true;
  propagation.setGlobalPropagator(w3cPropagator);
}
