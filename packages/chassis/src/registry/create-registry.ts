import type { Logger } from 'pino';
import type { InferConfig } from '../config/index.js';
import type { registryConfigSchema } from './config-schema.js';
import { ConsulRegistry } from './consul-registry.js';
import { EtcdRegistry } from './etcd-registry.js';
import { LocalRegistry } from './local-registry.js';
import { defaultLocalRegistryDir } from './local-registry-dir.js';
import { NoneRegistry } from './none-registry.js';
import type { Registry } from './registry-port.js';

export type RegistrySettings = InferConfig<typeof registryConfigSchema>['registry'];

/** The adapter `registry.backend` names, built from the `registry.*` settings. */
export function createRegistry(settings: RegistrySettings, log: Logger): Registry {
  switch (settings.backend) {
    case 'etcd':
      return new EtcdRegistry({
        endpoints: settings.etcd.endpoints,
        prefix: settings.etcd.prefix,
        ttlMs: settings.ttlMs,
        log,
      });
    case 'consul':
      return new ConsulRegistry({
        url: settings.consul.url,
        token: settings.consul.token,
        ttlMs: settings.ttlMs,
        deregisterCriticalAfterSeconds: Math.ceil(settings.consul.deregisterAfterMs / 1000),
        log,
      });
    case 'local':
      return new LocalRegistry({
        dir: settings.local.dir || defaultLocalRegistryDir(),
        ttlMs: settings.ttlMs,
      });
    default:
      return new NoneRegistry();
  }
}
