import { collectDefaultMetrics } from 'prom-client';
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

/** Prometheus metrics: runtime, HTTP RED metrics, `service_info`, and `/metrics`. */
export const metricsPlugin = definePlugin({
  name: 'metrics',
  dependencies: ['http'],
  config: metricsConfigSchema,
  register(ctx) {
    const metrics = new ServiceMetrics();
    ctx.provide('metrics', metrics);

    metrics
      .gauge({
        name: 'service_info',
        help: 'Always 1; labels identify the service, version and instance.',
        labelNames: ['service', 'version', 'instance'],
      })
      .set({ service: ctx.name, version: ctx.version, instance: ctx.instanceId }, 1);
    // Disabled metrics cost nothing per request: no runtime collectors, no HTTP hooks, no endpoint.
    if (!ctx.config.get('metrics.enabled')) return;
    if (ctx.config.get('metrics.runtime')) collectDefaultMetrics({ register: metrics.registry });
    instrumentHttpServer(ctx.http, metrics);

    const path = ctx.config.get('metrics.path');
    const port = ctx.config.get('metrics.port');
    if (port === 0) {
      ctx.http.get(path, { schema: { hide: true } }, async (_request, reply) =>
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
