import { addConfigFormat, type ConfigSchema, type InferConfig } from '../config/index.js';

const MIB = 1024 * 1024;

// Named formats (not functions in the schema), so the schema's type stays nameable and the
// configuration reference can say what each key expects.
addConfigFormat({
  name: 'load-shedding:bytes',
  description: '0 (off), or a number of bytes of at least 1 MiB (1048576)',
  validate(value) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || (value !== 0 && value < MIB))
      throw new Error(
        'must be 0 (off) or a whole number of bytes of at least 1 MiB: no Node.js process fits in less',
      );
  },
  coerce: Number,
});

addConfigFormat({
  name: 'load-shedding:utilization',
  description: '0 (off), or a share of busy event-loop time above 0 and below 1',
  validate(value) {
    if (typeof value !== 'number' || !(value >= 0 && value < 1))
      throw new Error('must be 0 (off) or between 0 and 1, 1 excluded: utilization never exceeds 1');
  },
  coerce: Number,
});

addConfigFormat({
  name: 'load-shedding:seconds',
  description: 'a whole number of seconds from 1 to 3600',
  validate(value) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > 3600)
      throw new Error('must be a whole number of seconds from 1 to 3600');
  },
  coerce: Number,
});

addConfigFormat({
  name: 'load-shedding:sample-interval',
  description: 'a whole number of ms from 10 to 60000',
  validate(value) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 10 || value > 60_000)
      throw new Error('must be a whole number of ms from 10 (the resolution of the delay monitor) to 60000');
  },
  coerce: Number,
});

export const loadSheddingConfigSchema = {
  loadShedding: {
    enabled: {
      doc: 'Refuse requests with 503 (problem+json, Retry-After) before their handler runs while the process is saturated, so the requests it does accept still finish in time. Health and metrics endpoints are never refused.',
      format: Boolean,
      default: false,
    },
    maxEventLoopDelayMs: {
      doc: 'Shed while the mean event-loop delay of the last sample exceeds this many ms; 0 turns the check off.',
      format: 'nat',
      default: 200,
    },
    maxEventLoopUtilization: {
      doc: 'Shed while the share of time the event loop was busy during the last sample exceeds this (e.g. 0.98); 0 turns the check off.',
      format: 'load-shedding:utilization',
      default: 0,
    },
    maxHeapUsedBytes: {
      doc: 'Shed while the V8 heap in use exceeds this many bytes; 0 turns the check off.',
      format: 'load-shedding:bytes',
      default: 0,
    },
    maxRssBytes: {
      doc: 'Shed while the resident set size of the process exceeds this many bytes; 0 turns the check off.',
      format: 'load-shedding:bytes',
      default: 0,
    },
    maxInFlight: {
      doc: 'Shed while this many requests are in progress (health and metrics requests not counted); 0 turns the check off.',
      format: 'nat',
      default: 0,
    },
    retryAfterSeconds: {
      doc: 'Retry-After of a refused request, in seconds.',
      format: 'load-shedding:seconds',
      default: 10,
    },
    sampleIntervalMs: {
      doc: 'How often event-loop delay, utilization and memory are sampled, in ms: shedding starts and stops at most this late.',
      format: 'load-shedding:sample-interval',
      default: 1000,
    },
  },
} satisfies ConfigSchema;

export type LoadSheddingSettings = InferConfig<typeof loadSheddingConfigSchema>['loadShedding'];
