import type { CheckResult, HealthIndicator, HealthStatus } from './health-indicator.js';

export interface HealthReport {
  /** `fail` when a critical indicator fails, `warn` when only non-critical ones do. */
  status: HealthStatus;
  checks: CheckResult[];
}

/**
 * The service's health indicators. Checks run in parallel, each within its timeout; a result is
 * reused for `cacheMs`, and concurrent callers share one run.
 */
export class HealthRegistry {
  readonly #indicators = new Map<string, HealthIndicator>();
  readonly #cacheMs: number;
  readonly #defaultTimeoutMs: number;
  #cached: { at: number; report: HealthReport } | undefined;
  #running: Promise<HealthReport> | undefined;

  constructor(options: { cacheMs: number; defaultTimeoutMs: number }) {
    this.#cacheMs = options.cacheMs;
    this.#defaultTimeoutMs = options.defaultTimeoutMs;
  }

  /** Adds an indicator; names are unique. */
  add(indicator: HealthIndicator): void {
    if (this.#indicators.has(indicator.name))
      throw new Error(`Health indicator "${indicator.name}" already exists`);
    this.#indicators.set(indicator.name, indicator);
    this.#cached = undefined;
  }

  remove(name: string): void {
    this.#indicators.delete(name);
    this.#cached = undefined;
  }

  /** Runs every indicator (or returns the cached report). */
  check(): Promise<HealthReport> {
    if (this.#cached && performance.now() - this.#cached.at < this.#cacheMs)
      return Promise.resolve(this.#cached.report);
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<HealthReport> {
    const checks = await Promise.all([...this.#indicators.values()].map((i) => this.#runOne(i)));
    const status: HealthStatus = checks.some((c) => c.status === 'fail' && c.critical)
      ? 'fail'
      : checks.some((c) => c.status !== 'pass')
        ? 'warn'
        : 'pass';
    const report = { status, checks };
    this.#cached = { at: performance.now(), report };
    return report;
  }

  async #runOne(indicator: HealthIndicator): Promise<CheckResult> {
    const timeoutMs = indicator.timeoutMs ?? this.#defaultTimeoutMs;
    const critical = indicator.critical ?? true;
    const controller = new AbortController();
    const began = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const base = { componentId: indicator.name, critical, time: new Date().toISOString() };
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`timed out after ${timeoutMs} ms`));
        }, timeoutMs);
      });
      const result = await Promise.race([Promise.resolve(indicator.check(controller.signal)), timeout]);
      return { ...base, ...(result ?? {}), status: result?.status ?? 'pass', durationMs: elapsed(began) };
    } catch (error) {
      return {
        ...base,
        status: 'fail',
        output: error instanceof Error ? error.message : String(error),
        durationMs: elapsed(began),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}

function elapsed(since: number): number {
  return Math.round((performance.now() - since) * 100) / 100;
}
