import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

const REAL = Symbol('real child logger');
const BINDINGS = Symbol('bindings');
const OPTIONS = Symbol('options');
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
const OTHER_METHODS = ['child', 'bindings', 'setBindings', 'flush'] as const;

interface LazyLogger {
  [REAL]?: Logger;
  [BINDINGS]: Bindings;
  [OPTIONS]: ChildLoggerOptions;
}

const prototypes = new WeakMap<Logger, object>();

/** A prototype whose methods create the real child logger on first use, then delegate to it. */
function prototypeFor(parent: Logger): object {
  let proto = prototypes.get(parent);
  if (proto) return proto;
  proto = Object.create(parent) as object;
  const real = (lazy: LazyLogger): Logger => {
    lazy[REAL] ??= parent.child(lazy[BINDINGS], lazy[OPTIONS]);
    return lazy[REAL];
  };
  for (const level of LEVELS) {
    Object.defineProperty(proto, level, {
      value(this: LazyLogger, ...args: unknown[]) {
        if (!parent.isLevelEnabled(level)) return;
        (real(this)[level] as (...a: unknown[]) => void)(...args);
      },
    });
  }
  for (const method of OTHER_METHODS) {
    Object.defineProperty(proto, method, {
      value(this: LazyLogger, ...args: unknown[]) {
        return (real(this)[method] as (...a: unknown[]) => unknown)(...args);
      },
    });
  }
  prototypes.set(parent, proto);
  return proto;
}

/**
 * fastify's per-request child logger, created only when the request actually logs. Most requests
 * never do, and a pino child (bindings serialised, redaction applied) costs several µs each.
 */
export function lazyChildLogger(
  parent: FastifyBaseLogger | Logger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  // A route with its own log level needs a real child: the shortcut checks the parent's level.
  if (options.level !== undefined) return parent.child(bindings, options) as FastifyBaseLogger;
  const lazy = Object.create(prototypeFor(parent as Logger)) as LazyLogger;
  lazy[BINDINGS] = bindings;
  lazy[OPTIONS] = options;
  return lazy as unknown as FastifyBaseLogger;
}
