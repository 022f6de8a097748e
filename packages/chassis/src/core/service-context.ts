import type { Logger } from 'pino';
import type { InferConfig, ServiceConfig } from '../config/index.js';
import type { coreConfigSchema } from './config-schema.js';
import type { ErrorChannel } from './error-channel.js';
import type { Lifecycle, LifecycleState } from './lifecycle.js';
import type { ShutdownPhase } from './shutdown-phases.js';

/**
 * What capabilities put on the context with {@link ServiceContext.provide}. Each capability adds
 * its key by declaration merging (`declare module` … `interface ServiceCapabilities`), so plugins
 * see typed `ctx.http`, `ctx.health`, `ctx.metrics` without importing each other.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging
export interface ServiceCapabilities {}

export type CoreConfig = InferConfig<typeof coreConfigSchema>;

export type LifecycleHook = () => void | Promise<void>;

export interface StopHookOptions {
  /** The shutdown phase the hook belongs to; `connections` when omitted. */
  phase?: ShutdownPhase;
}

/** The service as a plugin sees it: identity, config, logger, lifecycle hooks and capabilities. */
export interface ServiceContext<C = CoreConfig> extends ServiceCapabilities {
  readonly name: string;
  readonly version: string;
  readonly instanceId: string;
  /** The runtime environment (`NODE_ENV`), `development` by default. */
  readonly env: string;
  readonly config: ServiceConfig<C>;
  /** The service's logger; inside a plugin, a child logger carrying `plugin: <name>`. */
  readonly log: Logger;
  readonly state: LifecycleState;
  readonly lifecycle: Pick<Lifecycle, 'onTransition' | 'state'>;
  /** Unhandled errors: `report` them, `track` background tasks; exception tracking listens here. */
  readonly errors: ErrorChannel;
  /** Runs when the service starts, in plugin order, after every plugin has registered. */
  onStart(hook: LifecycleHook): void;
  /** Runs during shutdown in its phase; within a phase, in reverse plugin order. */
  onStop(hook: LifecycleHook, options?: StopHookOptions): void;
  /** Makes a capability available to later plugins and to the service as `ctx[name]`. */
  provide<K extends keyof ServiceCapabilities>(name: K, value: ServiceCapabilities[K]): void;
}
