import type { FastifyReply } from 'fastify';
import { definePlugin, type LifecycleState } from '../core/index.js';
import { healthConfigSchema } from './config-schema.js';
import type { CheckResult, HealthStatus } from './health-indicator.js';
import { HealthRegistry } from './health-registry.js';
import { healthResponses } from './health-schema.js';

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** Health indicators: `ctx.health.add({ name, check, critical, timeoutMs })`. */
    health: HealthRegistry;
  }
}

export const HEALTH_CONTENT_TYPE = 'application/health+json; charset=utf-8';

const stateCheck = (state: LifecycleState, status: HealthStatus): CheckResult => ({
  componentId: 'lifecycle',
  status,
  critical: true,
  time: new Date().toISOString(),
  durationMs: 0,
  observedValue: state,
});

/**
 * `/health/live`, `/health/ready` and `/health/startup` in the health+json draft format. Liveness
 * never looks at dependencies; readiness needs READY and every critical indicator passing.
 */
export const healthPlugin = definePlugin({
  name: 'health',
  dependencies: ['http'],
  config: healthConfigSchema,
  register(ctx) {
    const registry = new HealthRegistry({
      cacheMs: ctx.config.get('health.cacheMs'),
      defaultTimeoutMs: ctx.config.get('health.timeoutMs'),
    });
    ctx.provide('health', registry);

    const send = (reply: FastifyReply, status: HealthStatus, checks: CheckResult[]) => {
      const grouped: Record<string, CheckResult[]> = {};
      for (const check of checks) {
        grouped[check.componentId] ??= [];
        grouped[check.componentId]?.push(check);
      }
      return reply
        .code(status === 'fail' ? 503 : 200)
        .type(HEALTH_CONTENT_TYPE)
        .header('cache-control', 'no-store')
        .send({
          status,
          version: ctx.version,
          serviceId: ctx.instanceId,
          description: ctx.name,
          checks: grouped,
        });
    };
    // Operational: in the OpenAPI document only when http.docs.operationalRoutes is "describe".
    const config = { operational: true };
    const schema = { tags: ['health'], response: healthResponses };

    ctx.http.get(
      '/health/live',
      {
        config,
        schema: { ...schema, summary: 'Liveness: the process can make progress' },
      },
      (_req, reply) => {
        const state = ctx.state;
        const status = state === 'FAILED' ? 'fail' : 'pass';
        return send(reply, status, [stateCheck(state, status)]);
      },
    );

    ctx.http.get(
      '/health/startup',
      {
        config,
        schema: { ...schema, summary: 'Startup: the service has finished starting' },
      },
      (_req, reply) => {
        const state = ctx.state;
        const status = state === 'READY' || state === 'DRAINING' ? 'pass' : 'fail';
        return send(reply, status, [stateCheck(state, status)]);
      },
    );

    ctx.http.get(
      '/health/ready',
      {
        config,
        schema: { ...schema, summary: 'Readiness: the service can take traffic' },
      },
      async (_req, reply) => {
        const state = ctx.state;
        if (state !== 'READY') return send(reply, 'fail', [stateCheck(state, 'fail')]);
        const report = await registry.check();
        return send(reply, report.status, [stateCheck(state, 'pass'), ...report.checks]);
      },
    );
  },
});
