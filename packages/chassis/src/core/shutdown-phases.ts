/**
 * The shutdown order, after readiness has failed: the registry forgets the instance before the
 * HTTP server stops accepting, consumers stop before the relay flushes, connections close last but
 * one, and telemetry flushes at the very end so the shutdown itself is observable.
 */
export const SHUTDOWN_PHASES = [
  'deregister',
  'http',
  'consumers',
  'relay',
  'connections',
  'telemetry',
] as const;

export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number];
