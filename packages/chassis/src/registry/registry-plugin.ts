import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { definePlugin, refuseEmbeddedInProduction } from '../core/index.js';
import { registryConfigSchema } from './config-schema.js';
import { createRegistry, type RegistrySettings } from './create-registry.js';
import { Discovery } from './discovery.js';
import type { InstanceState, ServiceInstance } from './service-instance.js';

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** Client-side discovery: `ctx.discovery.instances('inventory')`. */
    discovery: Discovery;
  }
}

/**
 * Self-registration and discovery. The instance registers once READY, heart-beats with its
 * readiness (marked DOWN after `downAfterFailures` failed checks, READY again after as many passes),
 * shows DRAINING and deregisters the moment the service starts draining, before HTTP stops. The
 * registry being unreachable never stops the service: failures are logged, counted and retried.
 */
export const registryPlugin = definePlugin({
  name: 'registry',
  dependencies: ['http', 'health', 'metrics', 'clients'],
  config: registryConfigSchema,
  register(ctx) {
    const settings = ctx.config.get('registry');
    if (settings.backend === 'local')
      refuseEmbeddedInProduction(
        ctx,
        'registry.backend',
        'the instance registers in the local registry, which only services on this machine see',
        'etcd, consul, or none (on platforms that route by themselves, such as Kubernetes)',
      );
    const registry = createRegistry(settings, ctx.log);
    const discovery = new Discovery(registry, settings.discovery, ctx.log);
    ctx.provide('discovery', discovery);
    ctx.onStop(
      async () => {
        discovery.close();
        await registry.close();
      },
      { phase: 'connections' },
    );
    // Without a registry, clients need a base URL: they say so instead of finding nothing.
    if (registry.backend === 'none') return;
    ctx.clients.setResolver(discovery);

    const registered = ctx.metrics.gauge({
      name: 'registry_registered',
      help: 'Whether this instance is in the service registry (1) or not (0).',
    });
    const failures = ctx.metrics.counter({
      name: 'registry_operation_failures_total',
      help: 'Failed registry operations, by operation (register, heartbeat, deregister).',
      labelNames: ['operation'],
    });
    ctx.health.add({
      name: `registry:${registry.backend}`,
      critical: false,
      check: () => registry.ping(),
    });

    let instance: ServiceInstance | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let deregistering: Promise<void> | undefined;
    let failed = 0;
    let passed = 0;

    /** Runs a registry call; a failure is counted and logged, never thrown. Resolves to success. */
    const attempt = async (
      operation: 'register' | 'heartbeat' | 'deregister',
      run: () => Promise<void>,
    ): Promise<boolean> => {
      try {
        await run();
        registered.set(operation === 'deregister' ? 0 : 1);
        return true;
      } catch (error) {
        failures.inc({ operation });
        ctx.log.warn({ err: error, backend: registry.backend }, 'registry %s failed', operation);
        return false;
      }
    };
    const setState = async (state: InstanceState) => {
      if (!instance || instance.state === state) return;
      instance = { ...instance, state };
      ctx.log.info({ state }, 'registry: instance is %s', state);
      const current = instance;
      await attempt('register', () => registry.register(current));
    };
    const beat = async () => {
      if (!instance) return;
      const report = await ctx.health.check();
      if (report.status === 'fail') {
        passed = 0;
        if (++failed >= settings.downAfterFailures) await setState('DOWN');
      } else {
        failed = 0;
        if (++passed >= settings.downAfterFailures) await setState('READY');
      }
      const current = instance;
      if (current) await attempt('heartbeat', () => registry.heartbeat(current));
    };

    ctx.lifecycle.onTransition((to) => {
      if (to === 'READY') {
        const config = ctx.config as unknown as { get(path: string): unknown };
        instance = describeInstance(
          {
            service: ctx.name,
            id: ctx.instanceId,
            version: ctx.version,
            port: (ctx.http.server.address() as AddressInfo).port,
            boundHost: (ctx.http.server.address() as AddressInfo).address,
            metricsPort: config.get('metrics.port') as number,
            metricsPath: config.get('metrics.path') as string,
          },
          settings,
        );
        const current = instance;
        void attempt('register', () => registry.register(current)).then((ok) => {
          if (ok)
            ctx.log.info(
              { backend: registry.backend, url: current.url },
              'registered in the %s registry',
              registry.backend,
            );
        });
        heartbeat = setInterval(() => void beat(), settings.heartbeatMs).unref();
      }
      if (to === 'DRAINING' && instance) {
        clearInterval(heartbeat);
        const current = instance;
        instance = undefined;
        // Then the callers' discovery caches get time to drop the instance: until they do, they
        // still send it requests, which the HTTP server keeps accepting.
        deregistering = attempt('deregister', () => registry.deregister(current)).then(async (ok) => {
          if (ok) await delay(settings.deregisterDelayMs);
        });
      }
    });
    // First of the shutdown phases: gone from the registry before the HTTP server stops accepting.
    ctx.onStop(() => deregistering, { phase: 'deregister' });
  },
});

interface InstanceFacts {
  service: string;
  id: string;
  version: string;
  port: number;
  boundHost: string;
  metricsPort: number;
  metricsPath: string;
}

/** This instance's record: the address others reach it at and the port the server actually bound. */
function describeInstance(facts: InstanceFacts, settings: RegistrySettings): ServiceInstance {
  const address = settings.advertiseHost || advertisedAddress(facts.boundHost);
  const host = address.includes(':') ? `[${address}]` : address;
  const url = `http://${host}:${facts.port}`;
  return {
    service: facts.service,
    id: facts.id,
    url,
    address,
    port: facts.port,
    version: facts.version,
    state: 'READY',
    healthUrl: `${url}/health/ready`,
    metricsUrl:
      facts.metricsPort > 0
        ? `http://${host}:${facts.metricsPort}${facts.metricsPath}`
        : `${url}${facts.metricsPath}`,
    tags: settings.tags,
    metadata: settings.metadata,
    registeredAt: new Date().toISOString(),
  };
}

/** The bound host, or for a wildcard bind the first external IPv4 address (loopback as the last resort). */
function advertisedAddress(bound: string): string {
  if (bound !== '0.0.0.0' && bound !== '::' && bound !== '') return bound;
  for (const addresses of Object.values(networkInterfaces()))
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}
