import type { Writable } from 'node:stream';
import { type DestinationStream, type Logger, pino } from 'pino';
import { PinoPretty } from 'pino-pretty';

/** Adds fields to every log line, for example the active trace and span ids. */
export type LogMixin = () => Record<string, unknown> | undefined;

export interface CreateLoggerOptions {
  level: string;
  pretty: boolean;
  /** Extra redaction paths, on top of {@link DEFAULT_REDACT_PATHS}. */
  redact: readonly string[];
  /** Fields on every line: service name, version, instance id. */
  base: Record<string, string>;
  /** Where lines go; stdout when omitted. */
  destination?: DestinationStream | Writable;
}

export interface ServiceLogger {
  logger: Logger;
  /** Registers a mixin; its fields are merged into every line written after this call. */
  addMixin(mixin: LogMixin): void;
  /** Values replaced by `[redacted]` wherever they occur in a written line (see sensitiveValues). */
  setSecrets(values: readonly string[]): void;
}

const REDACTED = '[redacted]';

/** Credentials that must never reach a log line, whatever a handler logs. */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
];

/** One pino logger per service: JSON lines on stdout, or pretty lines on a developer's terminal. */
export function createLogger(options: CreateLoggerOptions): ServiceLogger {
  const mixins: LogMixin[] = [];
  let secrets: readonly string[] = [];
  const destination =
    options.destination ?? (options.pretty ? PinoPretty({ colorize: true, sync: true }) : undefined);
  const logger = pino(
    {
      level: options.level,
      base: options.base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...DEFAULT_REDACT_PATHS, ...options.redact], censor: REDACTED },
      // Paths catch credentials by name; this catches the configured secrets by value, wherever
      // they were put: one substring scan per secret and line, nothing when there are none.
      hooks: {
        streamWrite(line) {
          for (const secret of secrets) if (line.includes(secret)) line = line.split(secret).join(REDACTED);
          return line;
        },
      },
      // Mixins run on every line: keep the no-mixin path free of allocations.
      mixin() {
        if (mixins.length === 0) return {};
        if (mixins.length === 1) return mixins[0]?.() ?? {};
        return Object.assign({}, ...mixins.map((m) => m()));
      },
    },
    destination as DestinationStream | undefined,
  );
  return {
    logger,
    addMixin: (mixin) => mixins.push(mixin),
    setSecrets: (values) => {
      secrets = values;
    },
  };
}
