import { type ConfigEntry, ConfigError, type ConfigViolation } from '../config/index.js';
import type { LoadSheddingSettings } from './config-schema.js';

const THRESHOLDS = [
  'maxEventLoopDelayMs',
  'maxEventLoopUtilization',
  'maxHeapUsedBytes',
  'maxRssBytes',
  'maxInFlight',
] as const;

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/**
 * What one key cannot say on its own: shedding switched on with every limit off would do nothing,
 * and a memory limit the process is already over at startup would refuse every request.
 */
export function checkSettings(
  settings: LoadSheddingSettings,
  entries: readonly ConfigEntry[],
  memory: { heapUsed: number; rss: number },
): void {
  const origin = (name: string) => entries.find((e) => e.key === `loadShedding.${name}`)?.origin ?? 'unknown';
  const violations: ConfigViolation[] = [];
  if (THRESHOLDS.every((name) => settings[name] === 0)) {
    violations.push({
      key: 'loadShedding.enabled',
      problem: `shedding is on but every limit is 0 (off): set at least one of ${THRESHOLDS.map((n) => `loadShedding.${n}`).join(', ')}`,
      origin: origin('enabled'),
      value: 'true',
    });
  }
  const memoryLimits = [
    ['maxHeapUsedBytes', memory.heapUsed, 'heap used'],
    ['maxRssBytes', memory.rss, 'resident set'],
  ] as const;
  for (const [name, used, what] of memoryLimits) {
    const limit = settings[name];
    if (limit > 0 && used > limit)
      violations.push({
        key: `loadShedding.${name}`,
        problem: `the process is already over it at startup (${what} ${mib(used)} > ${mib(limit)}): every request would be refused`,
        origin: origin(name),
        value: String(limit),
      });
  }
  if (violations.length > 0) throw new ConfigError(violations);
}
