import { type Logger, pino } from 'pino';

/**
 * The service's root logger, found from a plugin's child logger. pino children are created with
 * `Object.create(parent)` and, unless given a level of their own, read the level through that
 * chain: setting the root's level changes every such child at once, the plugins' loggers and the
 * request loggers alike. Children with their own level (a route's `logLevel`) keep it.
 */
export function rootLogger(log: Logger): Logger {
  let node = log;
  // Every logger instance owns its bindings; pino's shared prototype above the root does not.
  for (
    let parent = Object.getPrototypeOf(node) as Logger | null;
    parent !== null && Object.hasOwn(parent, pino.symbols.chindingsSym);
    parent = Object.getPrototypeOf(parent) as Logger | null
  ) {
    node = parent;
  }
  return node;
}
