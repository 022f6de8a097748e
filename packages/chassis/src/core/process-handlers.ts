import type { Logger } from 'pino';

/** What the process-level handlers need from a service. */
export interface ManagedService {
  readonly name: string;
  readonly log: Logger;
  readonly shutdownBoundMs: number;
  stop(reason: string): Promise<boolean>;
}

// Process-wide by nature: one set of listeners however many services live in the process.
const services = new Set<ManagedService>();
const fatalListeners = new Set<(error: unknown, origin: string) => void>();
let shuttingDown = false;
let firstSignal: { signal: NodeJS.Signals; at: number } | undefined;

// `npm start` forwards the terminal's Ctrl-C to a child that already got it from the process group:
// the same signal twice within this window is one request to stop, not a demand to exit now.
const REPEAT_WINDOW_MS = 1000;

const SIGNAL_EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

function onSignal(signal: NodeJS.Signals): void {
  if (firstSignal?.signal === signal && performance.now() - firstSignal.at < REPEAT_WINDOW_MS) return;
  if (shuttingDown) {
    for (const svc of services) svc.log.warn({ signal }, 'second %s: exiting now', signal);
    process.exit(SIGNAL_EXIT_CODES[signal] ?? 1);
  }
  firstSignal = { signal, at: performance.now() };
  void shutdownAll(`signal ${signal}`, 0);
}

function onFatal(error: unknown, origin: string): void {
  // Reported before anything stops, so exception trackers see the crash while they still run.
  for (const listener of fatalListeners) {
    try {
      listener(error, origin);
    } catch {
      // A failing tracker must not keep the process from draining and exiting.
    }
  }
  for (const svc of services) svc.log.fatal({ err: error, origin }, 'fatal %s: shutting down', origin);
  if (!shuttingDown) void shutdownAll(origin, 1);
}

function onUncaughtException(error: Error, origin: string): void {
  onFatal(error, origin);
}

function onUnhandledRejection(reason: unknown): void {
  onFatal(reason, 'unhandledRejection');
}

/** Stops every service in parallel, then exits; a watchdog bounds the whole drain. */
async function shutdownAll(reason: string, exitCode: number): Promise<void> {
  shuttingDown = true;
  const all = [...services];
  const bound = Math.max(0, ...all.map((s) => s.shutdownBoundMs)) + 1000;
  setTimeout(() => {
    for (const svc of all) svc.log.error({ boundMs: bound }, 'shutdown exceeded its bound: exiting');
    process.exit(1);
  }, bound).unref();
  const results = await Promise.all(all.map((s) => s.stop(reason).catch(() => false)));
  process.exit(results.every(Boolean) ? exitCode : 1);
}

/**
 * Calls the listener with every uncaught exception and unhandled rejection the process-level
 * handlers catch (while some service manages the process), before the drain starts. Every running
 * service subscribes, since a crash of the process is a crash of each of them.
 */
export function onProcessFatal(listener: (error: unknown, origin: string) => void): () => void {
  fatalListeners.add(listener);
  return () => fatalListeners.delete(listener);
}

/**
 * Puts a service under the process-level handlers: SIGTERM and SIGINT stop every managed service
 * in order and exit (0 when clean); a second signal exits at once; an uncaught exception or
 * unhandled rejection is logged and ends the process non-zero after a bounded drain.
 * Returns a function that releases the service; the listeners go when the last one is released.
 */
export function manageProcess(service: ManagedService): () => void {
  if (services.size === 0) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('uncaughtException', onUncaughtException);
    process.on('unhandledRejection', onUnhandledRejection);
  }
  services.add(service);
  return () => {
    if (!services.delete(service) || services.size > 0 || shuttingDown) return;
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('uncaughtException', onUncaughtException);
    process.off('unhandledRejection', onUnhandledRejection);
  };
}
