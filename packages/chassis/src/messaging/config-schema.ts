import type { ConfigSchema } from '../config/index.js';

export const messagingConfigSchema = {
  messaging: {
    url: {
      doc: 'RabbitMQ URL (amqp:// or amqps://). Empty: the in-process transport, for services running in one process (the embedded default).',
      format: String,
      default: '',
      sensitive: true,
    },
    exchange: {
      doc: 'Topic exchange every message is published to, with its topic as the routing key.',
      format: String,
      default: 'keelson.events',
    },
    prefetch: {
      doc: 'Deliveries a consumer has in flight at once (AMQP prefetch), unless the consumer sets its own.',
      format: 'nat',
      default: 20,
    },
    publishTimeoutMs: {
      doc: 'Time in ms a publish waits for the broker (a connection, then its confirm) before it fails.',
      format: 'nat',
      default: 10000,
    },
    heartbeatSeconds: {
      doc: 'AMQP heartbeat in seconds: a dead connection is noticed after about twice this.',
      format: 'nat',
      default: 10,
    },
    reconnect: {
      initialDelayMs: {
        doc: 'First delay in ms before reconnecting to the broker; later delays grow exponentially, with jitter.',
        format: 'nat',
        default: 250,
      },
      maxDelayMs: {
        doc: 'Longest delay in ms between two reconnection attempts.',
        format: 'nat',
        default: 10000,
      },
    },
    retry: {
      maxAttempts: {
        doc: 'Deliveries of a message whose handler fails, the first included, before it goes to the dead-letter queue.',
        format: 'nat',
        default: 5,
      },
      delaysMs: {
        doc: 'Delays in ms before the 2nd, 3rd, ... delivery of a failed message (the last one repeats); comma-separated in env and flags.',
        format: Array,
        default: [1000, 5000, 30000] as number[],
      },
    },
    inbox: {
      retentionMs: {
        doc: 'Time in ms the ids of handled messages are kept for idempotent consumers: duplicates arriving later are handled again.',
        format: 'nat',
        default: 7 * 24 * 3600 * 1000,
      },
    },
  },
} satisfies ConfigSchema;
