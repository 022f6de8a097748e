import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';
import { ConfigError, type ConfigReload, type RuntimeLayer, type ServiceConfig } from '../config/index.js';
import type { ServiceMetrics } from '../metrics/index.js';
import { RELOAD_ORIGINS, type ReloadOrigin } from './reload-origin.js';

/**
 * Loads the configuration again on a trigger and reports what happened: every reload is logged
 * with its origin and the changed keys, counted, and written as an audit line. An invalid
 * configuration changes nothing: the last good one stays, and the problems are logged and counted.
 */
export class ConfigReloader {
  readonly #config: Pick<ServiceConfig<unknown>, 'reload'>;
  readonly #log: Logger;
  readonly #audit: Logger;
  readonly #runtime: () => RuntimeLayer | undefined;
  readonly #reloads: Counter<'origin'>;
  readonly #failures: Counter<'origin'>;
  readonly #ignored: Counter;
  readonly #lastSuccessful: Gauge;
  #closed = false;

  constructor(options: {
    config: Pick<ServiceConfig<unknown>, 'reload'>;
    log: Logger;
    metrics: ServiceMetrics;
    /** The runtime layer (etcd) to load with, when there is one. */
    runtime: () => RuntimeLayer | undefined;
  }) {
    this.#config = options.config;
    this.#log = options.log;
    // Audit lines are written whatever log.level says: a level of their own, which the root's
    // level changes do not reach.
    this.#audit = options.log.child({ audit: true });
    this.#audit.level = 'info';
    this.#runtime = options.runtime;
    const { metrics } = options;
    this.#reloads = metrics.counter({
      name: 'config_reloads_total',
      help: 'Configuration reloads that passed validation, by what triggered them (file, signal, etcd).',
      labelNames: ['origin'],
    });
    this.#failures = metrics.counter({
      name: 'config_reload_failures_total',
      help: 'Configuration reloads rejected as invalid, by trigger; the last good configuration stays in effect.',
      labelNames: ['origin'],
    });
    this.#ignored = metrics.counter({
      name: 'config_reload_ignored_keys_total',
      help: 'Changed keys that reloads did not apply because they are not reloadable (a restart applies them).',
    });
    this.#lastSuccessful = metrics.gauge({
      name: 'config_last_reload_successful',
      help: 'Whether the last configuration reload passed validation (1) or was rejected (0).',
    });
    this.#lastSuccessful.set(1);
    // Zero series from the start, so rate() and alerts see the first reload.
    for (const origin of RELOAD_ORIGINS) {
      this.#reloads.inc({ origin }, 0);
      this.#failures.inc({ origin }, 0);
    }
  }

  /** Loads, validates and applies the configuration again. Never throws; does nothing once closed. */
  reload(origin: ReloadOrigin): void {
    if (this.#closed) return;
    const runtime = this.#runtime();
    let result: ConfigReload;
    try {
      result = this.#config.reload({
        ...(runtime ? { runtime } : {}),
        onListenerError: (error) =>
          this.#log.error(
            { err: error, origin },
            'a config change listener failed; the change stays applied',
          ),
      });
    } catch (error) {
      this.#rejected(origin, error);
      return;
    }
    this.#reloads.inc({ origin });
    this.#lastSuccessful.set(1);
    const { changed, ignored } = result;
    if (changed.length === 0)
      this.#log.info({ origin }, 'configuration reloaded from %s: no changes', origin);
    else
      this.#log.info(
        { origin, changes: changed },
        'configuration reloaded from %s: %s changed',
        origin,
        changed.map((c) => c.key).join(', '),
      );
    if (ignored.length > 0) {
      this.#ignored.inc(ignored.length);
      this.#log.warn(
        { origin, keys: ignored },
        'configuration reload from %s: %s not applied: not reloadable (%s)',
        origin,
        ignored.join(', '),
        origin === 'etcd' ? 'etcd sets reloadable keys only' : 'a restart applies it',
      );
    }
    if (changed.length > 0 || ignored.length > 0)
      this.#audit.info(
        {
          action: 'config.reload',
          resource: 'config',
          outcome: 'success',
          details: { origin, changed: changed.map((c) => c.key), ignored },
        },
        changed.length > 0 ? 'audit: configuration changed' : 'audit: configuration change not applied',
      );
  }

  /** Ends reloading: a read still in flight when the service drains applies nothing. */
  close(): void {
    this.#closed = true;
  }

  #rejected(origin: ReloadOrigin, error: unknown): void {
    this.#failures.inc({ origin });
    this.#lastSuccessful.set(0);
    const violations = error instanceof ConfigError ? error.violations : undefined;
    this.#log.error(
      violations ? { origin, violations } : { origin, err: error },
      'configuration reload from %s rejected, the last good configuration stays: %s',
      origin,
      (error as Error).message,
    );
    this.#audit.info(
      {
        action: 'config.reload',
        resource: 'config',
        outcome: 'failure',
        details: { origin, problems: violations?.map((v) => `${v.key}: ${v.problem}`) ?? [String(error)] },
      },
      'audit: configuration change rejected',
    );
  }
}
