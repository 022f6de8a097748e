import pino from 'pino';
import { composeSchema, type Environment, loadConfig } from '../config/index.js';
import { registryConfigSchema } from './config-schema.js';
import { createRegistry, type RegistrySettings } from './create-registry.js';
import type { ServiceInstance } from './service-instance.js';

export interface ListInstancesOptions {
  /** Environment holding `REGISTRY_*` variables; `process.env` by default. */
  env?: Environment;
  /** Flags such as `--registry.backend etcd`. */
  argv?: readonly string[];
  /** `registry.*` values set in code, below env and flags. */
  overrides?: Record<string, unknown>;
}

/**
 * Every instance the registry holds, whatever its state, for tools (`keelson services`). The
 * registry is chosen the way a service chooses it: the `registry.*` keys from env and flags.
 */
export async function listRegisteredInstances(
  options: ListInstancesOptions = {},
): Promise<ServiceInstance[]> {
  const config = loadConfig<{ registry: RegistrySettings }>({
    schema: composeSchema([{ owner: 'registry', schema: registryConfigSchema }]),
    env: options.env ?? process.env,
    argv: options.argv ?? [],
    overrides: { registry: options.overrides ?? {} },
  });
  const registry = createRegistry(config.get('registry'), pino({ level: 'silent' }));
  try {
    return await registry.instances();
  } finally {
    await registry.close();
  }
}
