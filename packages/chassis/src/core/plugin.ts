import type { ConfigSchema, InferConfig } from '../config/index.js';
import type { CoreConfig, ServiceContext } from './service-context.js';

/** A unit of the service: its config fragment and what it registers on the context. */
export interface Plugin<S extends ConfigSchema = ConfigSchema> {
  /** Unique within a service; other plugins name it in their `dependencies`. */
  readonly name: string;
  /** Plugins that must register (and start) before this one. */
  readonly dependencies?: readonly string[];
  /** This plugin's config keys, merged into the service schema. Every key needs a `doc`. */
  readonly config?: S;
  register(ctx: ServiceContext<CoreConfig & InferConfig<S>>): void | Promise<void>;
}

/**
 * Any plugin, whatever its config schema: the type of plugin lists. Its `register` accepts a
 * context of any config type, which is how plugins with different schemas share one array.
 */
export interface AnyPlugin {
  readonly name: string;
  readonly dependencies?: readonly string[];
  readonly config?: ConfigSchema;
  readonly register: (ctx: never) => void | Promise<void>;
}

/**
 * Declares a plugin. The built-in HTTP server, health checks and metrics are plugins of exactly
 * this shape; a service's own plugins get the same hooks.
 */
export function definePlugin<const S extends ConfigSchema = {}>(plugin: Plugin<S>): Plugin<S> {
  if (typeof plugin.name !== 'string' || plugin.name.trim() === '')
    throw new TypeError('A plugin needs a name');
  if (typeof plugin.register !== 'function')
    throw new TypeError(`Plugin "${plugin.name}" needs a register function`);
  return plugin;
}
