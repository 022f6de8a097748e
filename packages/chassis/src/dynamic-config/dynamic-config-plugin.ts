import type { Logger } from 'pino';
import { definePlugin } from '../core/index.js';
import { ConfigReloader } from './config-reloader.js';
import { dynamicConfigSchema } from './config-schema.js';
import { Debouncer } from './debouncer.js';
import { EtcdConfigSource } from './etcd-config-source.js';
import { listenForSighup } from './sighup.js';
import { watchConfigDir } from './watch-config-dir.js';

const DEFAULT_ETCD_ENDPOINTS = ['http://127.0.0.1:2379'];

/** What a plugin sees of the configuration beyond its own fragment: other owners' keys, untyped. */
interface AnyConfig {
  get(path: string): unknown;
  readonly configDir: string | undefined;
}

/**
 * Dynamic configuration: loads the configuration again when a config file changes, on SIGHUP, and
 * (optionally) when the etcd keys of the service change; applies the keys marked reloadable and
 * tells `svc.config.onChange` subscribers. Off unless `dynamicConfig.enabled`.
 */
export const dynamicConfigPlugin = definePlugin({
  name: 'dynamic-config',
  dependencies: ['metrics', 'health'],
  config: dynamicConfigSchema,
  register(ctx) {
    const settings = ctx.config.get('dynamicConfig');
    if (!settings.enabled) return;
    const config = ctx.config as unknown as AnyConfig;
    const etcd = settings.etcd.enabled
      ? new EtcdConfigSource({
          endpoints: settings.etcd.endpoints.length > 0 ? settings.etcd.endpoints : etcdEndpointsOf(config),
          prefix: settings.etcd.prefix,
          service: ctx.name,
        })
      : undefined;
    const reloader = new ConfigReloader({
      config: ctx.config,
      log: ctx.log,
      metrics: ctx.metrics,
      runtime: () => etcd?.layer(),
    });
    const debounceMs = () => ctx.config.get('dynamicConfig.debounceMs');

    const stops: (() => void)[] = [() => reloader.close()];

    ctx.onStart(async () => {
      stops.push(listenForSighup(() => reloader.reload('signal')));
      if (settings.watchFiles && config.configDir !== undefined) {
        const files = new Debouncer(debounceMs, () => reloader.reload('file'));
        stops.push(() => files.close());
        const unwatch = watchFiles(config.configDir, () => files.notify(), ctx.log);
        if (unwatch) stops.push(unwatch);
      }
      if (etcd) {
        const changes = new Debouncer(debounceMs, () => void readEtcd(etcd, reloader, ctx.log));
        stops.push(() => changes.close());
        etcd.watch(
          () => changes.notify(),
          (error) =>
            ctx.log.warn({ err: error, prefix: etcd.prefix }, 'etcd configuration watch interrupted'),
        );
        // The values etcd holds now apply before the service is ready. An unreachable etcd delays
        // the start by one read's deadline at most; the watch catches up once it connects.
        await readEtcd(etcd, reloader, ctx.log);
        ctx.log.info({ prefix: etcd.prefix }, 'watching etcd %s for configuration changes', etcd.prefix);
      }
    });

    if (etcd) {
      ctx.health.add({ name: 'dynamic-config:etcd', critical: false, check: () => etcd.ping() });
      ctx.onStop(() => etcd.close(), { phase: 'connections' });
    }
    // Reloading stops the moment readiness fails: a shutdown is no time for new settings.
    ctx.lifecycle.onTransition((to) => {
      if (to === 'DRAINING' || to === 'FAILED') for (const stop of stops.splice(0)) stop();
    });
  },
});

/** Watches the config directory; a directory that cannot be watched is reported, not fatal. */
function watchFiles(dir: string, onChange: () => void, log: Logger): (() => void) | undefined {
  try {
    const unwatch = watchConfigDir(dir, onChange, (error) =>
      log.warn({ err: error, dir }, 'watching the config directory failed: file changes are not seen'),
    );
    log.debug({ dir }, 'watching %s for configuration changes', dir);
    return unwatch;
  } catch (error) {
    // A service without a config directory runs on defaults, env and flags: nothing to watch.
    log.info(
      { dir, reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message },
      'config directory %s cannot be watched: file changes are not seen',
      dir,
    );
    return undefined;
  }
}

/** Reads the etcd keys and reloads when they changed; a failed read is logged, never thrown. */
async function readEtcd(etcd: EtcdConfigSource, reloader: ConfigReloader, log: Logger): Promise<void> {
  try {
    if (await etcd.read()) reloader.reload('etcd');
  } catch (error) {
    log.warn({ err: error, prefix: etcd.prefix }, 'reading the configuration from etcd failed');
  }
}

/** The registry's etcd endpoints: the usual place of the cluster when the registry uses etcd too. */
function etcdEndpointsOf(config: AnyConfig): string[] {
  try {
    return config.get('registry.etcd.endpoints') as string[];
  } catch {
    return DEFAULT_ETCD_ENDPOINTS;
  }
}
