import { type Context, context, type Tracer, trace } from '@opentelemetry/api';
import { definePlugin } from '../core/index.js';
import { tracingConfigSchema } from './config-schema.js';
import { ensureContextManager } from './context-manager.js';
import { createExportingTracer } from './exporting-tracer.js';
import { traceHttpServer } from './http-server-spans.js';
import { IdOnlyTracer } from './id-only-tracer.js';
import {
  ensureGlobalPropagator,
  extractTraceContext,
  type HeaderCarrier,
  injectTraceContext,
} from './propagation.js';

/** The service's tracing, as capabilities and handlers see it. */
export interface Tracing {
  /** False when `tracing.enabled` is off: no spans are started, context is still passed on. */
  readonly enabled: boolean;
  /** Starts spans of this service; recording ones when an exporter is configured. */
  readonly tracer: Tracer;
  /** True when spans are recorded and exported (`tracing.exporter` is not `none`). */
  readonly exporting: boolean;
  /** Writes `traceparent`, `tracestate` and `baggage` of `ctx` (the active context) into headers. */
  inject(carrier: HeaderCarrier, ctx?: Context): void;
  /** Reads them from headers into a context; invalid headers start a new trace. */
  extract(carrier: HeaderCarrier, ctx?: Context): Context;
}

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** Tracing: `ctx.tracing.tracer`, and W3C context `inject`/`extract` for message headers. */
    tracing: Tracing;
  }
}

const NO_IDS = undefined;

/**
 * Distributed tracing on `@opentelemetry/api`: a server span per request, W3C propagation, trace
 * ids on log lines, and (only when an exporter is configured) the SDK with OTLP or console export.
 */
export const tracingPlugin = definePlugin({
  name: 'tracing',
  dependencies: ['http'],
  config: tracingConfigSchema,
  async register(ctx) {
    const config = ctx.config;
    const enabled = config.get('tracing.enabled');
    const exporter = config.get('tracing.exporter');
    if (!enabled) {
      ctx.provide('tracing', {
        enabled: false,
        tracer: trace.getTracer('@keelson/chassis'),
        exporting: false,
        inject: injectTraceContext,
        extract: extractTraceContext,
      });
      return;
    }
    ensureContextManager();
    ensureGlobalPropagator();

    let tracer: Tracer = new IdOnlyTracer();
    if (exporter !== 'none') {
      const exporting = await createExportingTracer({
        exporter,
        resource: {
          'service.name': ctx.name,
          'service.version': ctx.version,
          'service.instance.id': ctx.instanceId,
          'deployment.environment.name': ctx.env,
        },
        otlp: config.get('tracing.otlp'),
        sampler: config.get('tracing.sampler'),
        batch: config.get('tracing.batch'),
        log: ctx.log,
      });
      tracer = exporting.tracer;
      // Libraries that trace through the global API export through this service's pipeline too;
      // an application that registered its own provider first keeps it.
      const registered = trace.setGlobalTracerProvider(exporting.provider as never);
      ctx.onStop(
        async () => {
          await exporting.provider.shutdown();
          if (registered) trace.disable();
        },
        { phase: 'telemetry' },
      );
    }
    ctx.provide('tracing', {
      enabled: true,
      tracer,
      exporting: exporter !== 'none',
      inject: injectTraceContext,
      extract: extractTraceContext,
    });

    ctx.logging.addMixin(() => {
      const span = trace.getSpan(context.active());
      if (span === undefined) return NO_IDS;
      const ids = span.spanContext();
      return { trace_id: ids.traceId, span_id: ids.spanId };
    });
    traceHttpServer(ctx.http, tracer, exporter !== 'none', ctx.logging.redactUrl);
  },
});
