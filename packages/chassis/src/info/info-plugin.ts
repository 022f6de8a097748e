import { definePlugin } from '../core/index.js';
import { infoConfigSchema } from './config-schema.js';
import { enabledPlugins, type ServiceInfo, serviceInfoSchema } from './service-info.js';

/**
 * `GET /info`: what is running here (name, version, release, start time, uptime, Node.js version,
 * enabled plugins), and the release as the `service_release` label of `service_info`. On by default.
 */
export const infoPlugin = definePlugin({
  name: 'info',
  dependencies: ['http', 'metrics'],
  config: infoConfigSchema,
  register(ctx) {
    if (!ctx.config.get('info.enabled')) return;
    const releaseId = ctx.config.get('info.releaseId') || ctx.config.get('info.gitSha');
    const registered = ctx.plugins;
    let startedAt = new Date();
    let started = performance.now();
    ctx.onStart(() => {
      startedAt = new Date();
      started = performance.now();
    });

    ctx.metrics.info.set({ service_release: releaseId });

    ctx.http.get(
      '/info',
      {
        config: { operational: true },
        schema: {
          tags: ['info'],
          summary: 'What is running: name, version, release, uptime, Node.js version, plugins',
          response: { 200: serviceInfoSchema },
        },
      },
      async (_request, reply): Promise<ServiceInfo> => {
        reply.header('cache-control', 'no-store');
        return {
          name: ctx.name,
          version: ctx.version,
          releaseId,
          instanceId: ctx.instanceId,
          startTime: startedAt.toISOString(),
          uptimeSeconds: Math.round((performance.now() - started) / 10) / 100,
          nodeVersion: process.version,
          // Read per request: a plugin's switch may be reloadable.
          enabledPlugins: enabledPlugins(registered, ctx.config.explain()),
        };
      },
    );
  },
});
