import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ServiceConfig } from '../config/index.js';
import { ErrorChannel } from './error-channel.js';
import { Lifecycle } from './lifecycle.js';
import type { AnyPlugin } from './plugin.js';
import { orderPlugins } from './plugin-order.js';
import { onProcessFatal } from './process-handlers.js';
import type {
  LifecycleHook,
  ServiceCapabilities,
  ServiceContext,
  StopHookOptions,
} from './service-context.js';
import { shutdownBudgetMs } from './shutdown-budget.js';
import { SHUTDOWN_PHASES, type ShutdownPhase } from './shutdown-phases.js';

export interface ShutdownSettings {
  preStopDelayMs: number;
  timeouts: Readonly<Record<ShutdownPhase, number>>;
}

export interface ServiceHostOptions<C> {
  name: string;
  version: string;
  instanceId: string;
  env: string;
  config: ServiceConfig<C>;
  logger: Logger;
  shutdown: ShutdownSettings;
}

interface StopHook {
  plugin: string;
  phase: ShutdownPhase;
  hook: LifecycleHook;
}

/**
 * Runs a service: registers plugins in dependency order, starts them in that order, and shuts
 * down in the fixed phase order, each phase bounded by its timeout.
 */
export class ServiceHost<C> {
  readonly lifecycle = new Lifecycle();
  readonly context: ServiceContext<C>;
  readonly #log: Logger;
  readonly #shutdown: ShutdownSettings;
  readonly #startHooks: { plugin: string; hook: LifecycleHook }[] = [];
  readonly #stopHooks: StopHook[] = [];
  #starting: Promise<void> | undefined;
  #stopping: Promise<boolean> | undefined;
  #releaseFatal: (() => void) | undefined;

  constructor(options: ServiceHostOptions<C>) {
    this.#log = options.logger;
    this.#shutdown = options.shutdown;
    const lifecycle = this.lifecycle;
    const shared = {
      name: options.name,
      version: options.version,
      instanceId: options.instanceId,
      env: options.env,
      config: options.config,
      log: options.logger,
      lifecycle,
      errors: new ErrorChannel(options.logger),
      get state() {
        return lifecycle.state;
      },
      onStart: (hook: LifecycleHook) => this.#startHooks.push({ plugin: 'service', hook }),
      onStop: (hook: LifecycleHook, opts?: StopHookOptions) =>
        this.#stopHooks.push({ plugin: 'service', phase: opts?.phase ?? 'connections', hook }),
      provide<K extends keyof ServiceCapabilities>(name: K, value: ServiceCapabilities[K]) {
        if (Object.hasOwn(shared, name)) throw new Error(`Capability "${String(name)}" is already provided`);
        Object.defineProperty(shared, name, { value, enumerable: true });
      },
    };
    this.context = shared as unknown as ServiceContext<C>;
  }

  /** Registers the plugins in dependency order; each sees a context with its own child logger. */
  async register(plugins: readonly AnyPlugin[]): Promise<void> {
    for (const plugin of orderPlugins(plugins)) {
      const ctx = Object.create(this.context, {
        log: { value: this.#log.child({ plugin: plugin.name }) },
        onStart: { value: (hook: LifecycleHook) => this.#startHooks.push({ plugin: plugin.name, hook }) },
        onStop: {
          value: (hook: LifecycleHook, opts?: StopHookOptions) =>
            this.#stopHooks.push({ plugin: plugin.name, phase: opts?.phase ?? 'connections', hook }),
        },
      }) as never;
      try {
        await plugin.register(ctx);
      } catch (error) {
        throw new Error(`Plugin "${plugin.name}" failed to register: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  }

  /** Runs the start hooks in order and resolves once the service is READY. Idempotent. */
  start(): Promise<void> {
    this.#starting ??= this.#runStart();
    return this.#starting;
  }

  async #runStart(): Promise<void> {
    if (this.lifecycle.state !== 'STARTING')
      throw new Error(`Cannot start a service that is ${this.lifecycle.state}`);
    const began = performance.now();
    const errors = this.context.errors;
    this.#releaseFatal = onProcessFatal((error, origin) =>
      errors.report(error, { source: 'process', origin }),
    );
    for (const { plugin, hook } of this.#startHooks) {
      if (this.lifecycle.state !== 'STARTING')
        throw new Error(`Start interrupted: the service is ${this.lifecycle.state}`);
      try {
        await hook();
      } catch (error) {
        this.#log.error({ err: error, plugin }, 'start failed in plugin "%s"', plugin);
        this.lifecycle.transition('FAILED');
        await this.#runShutdownPhases();
        this.#releaseFatal?.();
        throw error;
      }
    }
    if (this.lifecycle.state !== 'STARTING') return;
    this.lifecycle.transition('READY');
    this.#log.info({ startupMs: Math.round(performance.now() - began) }, 'service ready');
  }

  /**
   * Shuts down in order: readiness fails, the pre-stop delay passes, then each phase runs its
   * hooks (reverse plugin order) within its bound. Idempotent; resolves true when every hook
   * finished in time.
   */
  stop(reason = 'stop requested'): Promise<boolean> {
    this.#stopping ??= this.#runStop(reason);
    return this.#stopping;
  }

  async #runStop(reason: string): Promise<boolean> {
    // Let a start in progress settle first, so no start hook runs after its resources are closed.
    await this.#starting?.catch(() => undefined);
    const state = this.lifecycle.state;
    if (state === 'STOPPED') return true;
    if (state === 'FAILED' && this.#starting) return false;
    this.lifecycle.transition('DRAINING');
    this.#log.info({ reason }, 'service draining');
    if (this.#shutdown.preStopDelayMs > 0) await delay(this.#shutdown.preStopDelayMs);
    const clean = await this.#runShutdownPhases();
    this.#releaseFatal?.();
    this.lifecycle.transition('STOPPED');
    this.#log.info({ clean }, 'service stopped');
    return clean;
  }

  async #runShutdownPhases(): Promise<boolean> {
    let clean = true;
    for (const phase of SHUTDOWN_PHASES) {
      const hooks = this.#stopHooks.filter((h) => h.phase === phase).reverse();
      if (hooks.length === 0) continue;
      const bound = this.#shutdown.timeouts[phase];
      const ok = await runBounded(this.#runHooks(hooks), bound);
      if (!ok) {
        clean = false;
        this.#log.warn(
          { phase, timeoutMs: bound },
          'shutdown phase "%s" did not finish within %d ms',
          phase,
          bound,
        );
      }
    }
    return clean;
  }

  async #runHooks(hooks: readonly StopHook[]): Promise<boolean> {
    let clean = true;
    for (const { plugin, phase, hook } of hooks) {
      try {
        await hook();
      } catch (error) {
        clean = false;
        this.#log.error({ err: error, plugin, phase }, 'stop hook of plugin "%s" failed', plugin);
      }
    }
    return clean;
  }

  /** The longest a stop can take, for process-level watchdogs. */
  get shutdownBoundMs(): number {
    return shutdownBudgetMs(this.#shutdown);
  }
}

/** Resolves to the work's result, or false when it did not finish within `ms`. */
async function runBounded(work: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
