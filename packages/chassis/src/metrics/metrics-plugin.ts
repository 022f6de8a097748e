import { collectDefaultMetrics, type Registry } from 'prom-client';
import { definePlugin } from '../core/index.js';
import { metricsConfigSchema } from './config-schema.js';
import { instrumentHttpServer } from './http-metrics.js';
import { MetricsServer } from './metrics-server.js';
import { ServiceMetrics } from './service-metrics.js';

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** The service's metrics: `ctx.metrics.counter({ name, help, labelNames })` and friends. */
    metrics: ServiceMetrics;
  }
}

/**
 * prom-client's runtime metrics, less the three gauges it names `nodejs_active_*_total`: a `_total`
 * suffix means a counter to Prometheus (promtool rejects them), and `nodejs_active_handles`,
 * `nodejs_active_requests` and `nodejs_active_resources` carry the same numbers by type.
 */
function collectRuntimeMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ])
    registry.removeSingleMetric(name);
}

/** Prometheus metrics: runtime, HTTP RED metrics, `service_info` and `/metrics`. */
export const metricsPlugin = definePlugin({
  name: 'metrics',
  dependencies: ['http'],
  config: metricsConfigSchema,
  register(ctx) {
    const metrics = new ServiceMetrics();
    ctx.provide('metrics', metrics);

    metrics.info.set({
      service_name: ctx.name,
      service_version: ctx.version,
      service_instance_id: ctx.instanceId,
      deployment_environment_name: ctx.env,
      process_runtime_name: 'nodejs',
      process_runtime_version: process.versions.node,
    });
    // Disabled metrics cost nothing per request: no runtime collectors, no HTTP hooks, no endpoint.
    if (!ctx.config.get('metrics.enabled')) return;
    if (ctx.config.get('metrics.runtime')) collectRuntimeMetrics(metrics.registry);
    instrumentHttpServer(ctx.http, metrics);

    const path = ctx.config.get('metrics.path');
    const port = ctx.config.get('metrics.port');
    if (port === 0) {
      // No response schema: one on this route makes fastify's reply stall after a load-shedding episode.
      const scrape = { summary: 'Prometheus metrics, in the text exposition format', tags: ['metrics'] };
      ctx.http.get(path, { config: { operational: true }, schema: scrape }, async (_request, reply) =>
        reply.type(metrics.contentType).send(await metrics.text()),
      );
      return;
    }
    const server = new MetricsServer(metrics, path);
    ctx.onStart(async () => {
      const address = await server.listen(ctx.config.get('metrics.host'), port);
      ctx.log.info({ port: address.port }, 'metrics served on port %d', address.port);
    });
    // Last to go, so the shutdown itself can still be scraped.
    ctx.onStop(() => server.close(), { phase: 'telemetry' });
  },
});
