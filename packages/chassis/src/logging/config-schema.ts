import type { ConfigSchema } from '../config/index.js';

export const loggingConfigSchema = {
  log: {
    level: {
      doc: 'Lowest level written: fatal, error, warn, info, debug, trace, or silent.',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'LOG_LEVEL',
      reloadable: true,
    },
    pretty: {
      doc: 'Human-readable lines instead of JSON. "auto" means: when stdout is a terminal and env is development.',
      format: ['auto', 'on', 'off'],
      default: 'auto',
      env: 'LOG_PRETTY',
    },
    redact: {
      doc: 'Extra log paths whose values are replaced by [redacted] (pino redact syntax), added to the built-in list of credentials and cookies.',
      format: Array,
      default: [] as string[],
      env: 'LOG_REDACT',
    },
  },
} as const satisfies ConfigSchema;
