import { type ConfigEntry, ConfigError } from '../config/index.js';

/**
 * Throws a ConfigError naming `key` when the service runs in production on the embedded default
 * of that key (it was never set) without `service.allowEmbeddedInProduction`: an in-memory database
 * or an in-process broker there loses data on every restart, and the local registry spans one machine.
 */
export function refuseEmbeddedInProduction(
  ctx: { env: string; config: { explain(): readonly ConfigEntry[] } },
  key: string,
  what: string,
  expected: string,
): void {
  if (ctx.env !== 'production') return;
  const entries = ctx.config.explain();
  if (entries.find((e) => e.key === 'service.allowEmbeddedInProduction')?.value === true) return;
  const entry = entries.find((e) => e.key === key);
  if (entry === undefined || entry.origin !== 'default') return;
  throw new ConfigError([
    {
      key,
      problem: `not set in production, so ${what}: set ${key}${entry.env ? ` (env ${entry.env})` : ''}, or set service.allowEmbeddedInProduction=true to run on the embedded default on purpose`,
      origin: entry.origin,
      value: JSON.stringify(entry.value),
      expected,
    },
  ]);
}
