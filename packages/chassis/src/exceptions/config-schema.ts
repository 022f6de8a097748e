import type { ConfigSchema } from '../config/index.js';

export const exceptionsConfigSchema = {
  exceptions: {
    enabled: {
      doc: 'Exception tracking: every unhandled error (HTTP 5xx, failed consumer attempts, failed background tasks, process crashes) is fingerprinted, counted in exceptions_total and handed to the reporters. Off: errors are logged where they happen, as before.',
      format: Boolean,
      default: false,
    },
    reporter: {
      doc: 'The built-in reporter: log (the first occurrence of a fingerprint at error level with its stack, repeats summarised every logRepeatsEveryMs) or none (only the reporters added in code).',
      format: ['log', 'none'] as const,
      default: 'log',
    },
    logRepeatsEveryMs: {
      doc: 'Interval in ms at which the log reporter summarises the repeats of one fingerprint: at most one line per fingerprint per interval after its first, full one.',
      format: 'nat',
      default: 60000,
    },
    maxFingerprints: {
      doc: 'Distinct fingerprints tracked per process (bounded memory and metric series). Errors with new fingerprints beyond it are counted and logged under the fingerprint "other"; reporters still get their own fingerprint.',
      format: 'nat',
      default: 1000,
    },
    stackFrames: {
      doc: 'In-app stack frames (file and function, no line numbers) that go into a fingerprint, from the top of the stack.',
      format: 'nat',
      default: 5,
    },
    reporterTimeoutMs: {
      doc: 'Time in ms a reporter may take for one event, and for its flush at shutdown, before it counts as failed and is no longer waited for. At least 1; keep it below shutdown.timeouts.telemetry.',
      format: 'nat',
      default: 3000,
    },
  },
} satisfies ConfigSchema;
