import type { Logger } from 'pino';

/** The part of the service logger the database adapters use: connection trouble is logged, never thrown at the process. */
export type DatabaseLog = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** Stands in when no logger is given. */
export const silentLog: DatabaseLog = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
