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
    redactQueryParams: {
      doc: 'Query parameters whose values are replaced by [redacted] wherever the chassis logs or traces a URL (access log, server and client spans) (matched case-insensitively, also as a part of a name such as my_api_key). access_token is always redacted.',
      format: Array,
      default: [
        'access_token',
        'id_token',
        'refresh_token',
        'token',
        'api_key',
        'apikey',
        'key',
        'secret',
        'password',
        'passwd',
        'signature',
        'sig',
        'code',
        'auth',
        'credential',
        'session',
      ] as string[],
    },
    redact: {
      doc: 'Extra log paths whose values are replaced by [redacted] (pino redact syntax), added to the built-in list of credentials and cookies.',
      format: Array,
      default: [] as string[],
      env: 'LOG_REDACT',
    },
  },
} as const satisfies ConfigSchema;
