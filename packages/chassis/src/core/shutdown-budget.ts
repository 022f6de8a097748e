import { coreConfigSchema } from './config-schema.js';
import { SHUTDOWN_PHASES, type ShutdownPhase } from './shutdown-phases.js';

/** Shutdown settings as config files give them: any key may be missing. */
export interface ShutdownOverrides {
  preStopDelayMs?: number;
  timeouts?: Partial<Record<ShutdownPhase, number>>;
}

/**
 * The longest a stop can take: the pre-stop delay plus the bound of every phase, with the defaults
 * for what is not given. Process watchdogs use it, and so does `keelson new` for Kubernetes'
 * `terminationGracePeriodSeconds`.
 */
export function shutdownBudgetMs(settings: ShutdownOverrides = {}): number {
  const defaults = coreConfigSchema.shutdown;
  let total = settings.preStopDelayMs ?? defaults.preStopDelayMs.default;
  for (const phase of SHUTDOWN_PHASES)
    total += settings.timeouts?.[phase] ?? defaults.timeouts[phase].default;
  return total;
}
