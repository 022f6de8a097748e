import underPressure from '@fastify/under-pressure';
import type { FastifyRequest } from 'fastify';
import { definePlugin } from '../core/index.js';
import { PROBLEM_CONTENT_TYPE, RETRY_AFTER } from '../http/index.js';
import { checkSettings } from './check-settings.js';
import { loadSheddingConfigSchema } from './config-schema.js';
import { assessPressure, inFlightOverload, type Overload } from './pressure.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: this route is never shed and not counted in flight (like the health endpoints). */
    loadShedding?: false;
  }
}

/**
 * Load shedding (`loadShedding.*`, off by default): while the process is over a limit (event-loop
 * delay or utilization, heap, RSS, requests in flight), a request is refused with 503
 * problem+json and `Retry-After` before its body is read or its handler runs, so the work already
 * accepted finishes in time instead of everything slowing down together. @fastify/under-pressure
 * samples the process; the decision is made here, once, for the hook, the `load-shedding` health
 * indicator and the `load_shedding_active` gauge alike.
 *
 * Health and metrics endpoints are never shed. Readiness reports shedding as a warning and stays
 * up: failing it would pull every saturated instance out of the load balancer at once and pile the
 * traffic onto the rest.
 */
export const loadSheddingPlugin = definePlugin({
  name: 'load-shedding',
  dependencies: ['http', 'metrics', 'health'],
  config: loadSheddingConfigSchema,
  async register(ctx) {
    const settings = ctx.config.get('loadShedding');
    if (!settings.enabled) return;
    const memory = process.memoryUsage();
    checkSettings(settings, ctx.config.explain(), { heapUsed: memory.heapUsed, rss: memory.rss });

    const app = ctx.http;
    // No thresholds given: the package only samples (its delay histogram corrects for the timer's
    // resolution); its own 503 would go through the error handler, which logs every 5xx.
    await app.register(underPressure, {
      sampleInterval: settings.sampleIntervalMs,
      eventLoopUtilizationMode: 'interval',
    });

    const metricsPath = (ctx.config as unknown as { get(path: string): unknown }).get('metrics.path');
    // Probes must answer under load, or the orchestrator restarts an instance that is only busy.
    const exemptRoute = (url: string | undefined, config: { loadShedding?: false } | undefined) =>
      (url !== undefined && (url.startsWith('/health/') || url === metricsPath)) ||
      config?.loadShedding === false;
    const exempt = (request: FastifyRequest) =>
      exemptRoute(request.routeOptions.url, request.routeOptions.config);
    ctx.openapi.describeOperations(({ url, route }) =>
      exemptRoute(url, route.config)
        ? undefined
        : {
            problems: {
              503: {
                description:
                  'The service is overloaded and sheds load: it refuses some requests before reading them.',
                headers: RETRY_AFTER,
              },
            },
          },
    );

    const maxInFlight = settings.maxInFlight;
    let inFlight = 0;
    const release = () => {
      inFlight--;
    };
    const overloaded = (): Overload | undefined =>
      assessPressure(app.memoryUsage(), settings) ??
      (maxInFlight > 0 && inFlight >= maxInFlight ? inFlightOverload(inFlight, maxInFlight) : undefined);

    // An episode runs from the first refused request until a whole sample interval passes with no
    // refusal and no overload: one warning when it starts, one line when it ends, whatever the rate.
    let episode: { began: number; refused: number } | undefined;
    let refusedSinceTick = 0;

    const rejected = ctx.metrics.counter({
      name: 'load_shedding_rejected_total',
      help: 'Requests refused with 503 by load shedding, by reason (event_loop_delay, event_loop_utilization, heap_used, rss, in_flight).',
      labelNames: ['reason'],
    });
    ctx.metrics.gauge({
      name: 'load_shedding_active',
      help: 'Whether the service is shedding load (1) or not (0).',
      collect() {
        this.set(episode || overloaded() ? 1 : 0);
      },
    });
    ctx.health.add({
      name: 'load-shedding',
      critical: false,
      check: () => {
        const overload = overloaded();
        if (overload)
          return {
            status: 'warn',
            output: `shedding: ${overload.description}`,
            observedValue: overload.value,
          };
      },
    });

    const retryAfter = String(settings.retryAfterSeconds);
    const detail = `The service is overloaded and refuses some requests; retry in ${settings.retryAfterSeconds} s.`;
    // A callback hook, and the answer sent from here: cheaper than an error through the error
    // handler, which would also log every refusal as a failure.
    app.addHook('onRequest', (request, reply, done) => {
      if (exempt(request)) return done();
      const overload = overloaded();
      if (overload === undefined) {
        if (maxInFlight > 0) {
          inFlight++;
          // 'close' comes for every response, finished or aborted; 'finish' (onResponse) would miss
          // a client that went away, and the count would never come down.
          reply.raw.on('close', release);
        }
        return done();
      }
      rejected.inc({ reason: overload.reason });
      refusedSinceTick++;
      if (!episode) {
        episode = { began: Date.now(), refused: 0 };
        ctx.log.warn({ reason: overload.reason }, 'load shedding started: %s', overload.description);
      }
      reply.code(503).header('retry-after', retryAfter).type(PROBLEM_CONTENT_TYPE).send({
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        detail,
        instance: request.url,
        requestId: request.id,
      });
    });

    let timer: NodeJS.Timeout | undefined;
    ctx.onStart(() => {
      timer = setInterval(() => {
        if (!episode) return;
        episode.refused += refusedSinceTick;
        const quiet = refusedSinceTick === 0 && overloaded() === undefined;
        refusedSinceTick = 0;
        if (!quiet) return;
        ctx.log.info(
          { refused: episode.refused, durationMs: Date.now() - episode.began },
          'load shedding stopped after refusing %d requests',
          episode.refused,
        );
        episode = undefined;
      }, settings.sampleIntervalMs).unref();
    });
    ctx.onStop(() => clearInterval(timer), { phase: 'http' });
    ctx.log.info({ limits: limitsOf(settings) }, 'load shedding on');
  },
});

/** The limits in force, for the startup line. */
function limitsOf(settings: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(settings).filter(([key, value]) => key.startsWith('max') && value !== 0),
  );
}
