import type { ConfigSchema } from '../config/index.js';

export const healthConfigSchema = {
  health: {
    cacheMs: {
      doc: 'How long in ms a readiness result is reused, so probe storms do not reach the dependencies. 0 disables.',
      format: 'nat',
      default: 1000,
    },
    timeoutMs: {
      doc: 'Default time in ms an indicator may take before it counts as failed.',
      format: 'nat',
      default: 2000,
    },
  },
} as const satisfies ConfigSchema;
