import type { ConfigSchema } from '../config/index.js';

export const outboxConfigSchema = {
  outbox: {
    relay: {
      enabled: {
        doc: 'Whether this instance publishes committed outbox rows. Several instances share the work safely.',
        format: Boolean,
        default: true,
      },
      batchSize: {
        doc: 'Rows claimed and published per batch.',
        format: 'nat',
        default: 200,
      },
      concurrency: {
        doc: 'Batches a relay has in flight at once: one is claimed while another waits for its confirms.',
        format: 'nat',
        default: 2,
      },
      pollMs: {
        doc: 'Interval in ms of the polling fallback; the relay is normally woken by LISTEN/NOTIFY right after a commit.',
        format: 'nat',
        default: 1000,
      },
      drainMs: {
        doc: 'Time in ms the relay keeps publishing pending rows on shutdown (within shutdown.timeouts.relay).',
        format: 'nat',
        default: 3000,
      },
    },
    retry: {
      initialDelayMs: {
        doc: 'Delay in ms before a row whose publish failed is tried again; it doubles per failure.',
        format: 'nat',
        default: 500,
      },
      maxDelayMs: {
        doc: 'Longest delay in ms between two tries of a failing row.',
        format: 'nat',
        default: 60000,
      },
    },
    retentionMs: {
      doc: 'Time in ms published rows are kept (for audits and replays) before the relay deletes them.',
      format: 'nat',
      default: 24 * 3600 * 1000,
    },
    backlog: {
      maxAgeMs: {
        doc: 'Age in ms of the oldest unpublished row above which the outbox health indicator reports a problem.',
        format: 'nat',
        default: 60000,
      },
      failReadiness: {
        doc: 'Whether a backlog older than backlog.maxAgeMs makes the service not ready (true) or only shows a warning (false).',
        format: Boolean,
        default: false,
      },
    },
  },
} satisfies ConfigSchema;
