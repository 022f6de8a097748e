import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { LogSpanExporter } from './log-span-exporter.js';
import { RandomFlagTracer } from './random-flag-tracer.js';
import { randomIdGenerator } from './trace-ids.js';

export interface ExportingTracerOptions {
  exporter: 'console' | 'otlp';
  resource: Record<string, string>;
  otlp: { endpoint: string; headers: string; timeoutMs: number };
  sampler: { ratio: number; parentBased: boolean };
  batch: { delayMs: number; maxQueueSize: number };
  log: Logger;
}

/** A recording tracer and the means to flush and stop its export pipeline. */
export interface ExportingTracer {
  tracer: Tracer;
  provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> };
}

// The versions this chassis is tested with (its optional peer dependencies).
const SDK_PACKAGES = {
  console: ['@opentelemetry/sdk-trace@^2.12.1', '@opentelemetry/resources@^2.12.1'],
  otlp: [
    '@opentelemetry/sdk-trace@^2.12.1',
    '@opentelemetry/resources@^2.12.1',
    '@opentelemetry/exporter-trace-otlp-http@^0.223.1',
  ],
};

/**
 * Loads the OpenTelemetry SDK only now, when an exporter is configured: services that do not export
 * spans neither install nor load it.
 */
export async function createExportingTracer(options: ExportingTracerOptions): Promise<ExportingTracer> {
  let sdk: typeof import('@opentelemetry/sdk-trace');
  let resources: typeof import('@opentelemetry/resources');
  let otlp: typeof import('@opentelemetry/exporter-trace-otlp-http') | undefined;
  try {
    [sdk, resources, otlp] = await Promise.all([
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/resources'),
      options.exporter === 'otlp' ? import('@opentelemetry/exporter-trace-otlp-http') : undefined,
    ]);
  } catch (error) {
    throw new Error(
      `tracing.exporter=${options.exporter} needs the OpenTelemetry SDK: npm install ${SDK_PACKAGES[options.exporter].join(' ')}`,
      { cause: error },
    );
  }

  const ratio = new sdk.TraceIdRatioBasedSampler(options.sampler.ratio);
  const processor =
    otlp === undefined
      ? new sdk.SimpleSpanProcessor({ exporter: new LogSpanExporter(options.log) as never })
      : new sdk.BatchSpanProcessor({
          exporter: new otlp.OTLPTraceExporter({
            url: options.otlp.endpoint,
            headers: parseHeaders(options.otlp.headers),
            timeoutMillis: options.otlp.timeoutMs,
          }),
          scheduledDelayMillis: options.batch.delayMs,
          maxQueueSize: options.batch.maxQueueSize,
        });
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes(options.resource),
    sampler: options.sampler.parentBased ? new sdk.ParentBasedSampler({ root: ratio }) : ratio,
    spanProcessors: [processor],
    idGenerator: randomIdGenerator,
  });
  return { tracer: new RandomFlagTracer(provider.getTracer('@keelson/chassis')), provider };
}

/** `"a=1, b=2"` → `{ a: '1', b: '2' }`. */
function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) headers[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return headers;
}
