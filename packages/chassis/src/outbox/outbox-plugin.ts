import { definePlugin } from '../core/index.js';
import { encodeMessage } from '../messaging/index.js';
import { outboxConfigSchema } from './config-schema.js';
import { Outbox } from './outbox.js';
import { OutboxRelay } from './outbox-relay.js';
import { type BacklogStats, OUTBOX_MIGRATIONS, outboxStore } from './outbox-store.js';

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** Transactional outbox: `ctx.outbox.enqueue(tx, { topic, key, payload })`. */
    outbox: Outbox;
  }
}

const STATS_CACHE_MS = 1000;
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The transactional outbox on `ctx.db` and `ctx.messaging`. The relay starts when the database
 * opens (at start for a configured database, at first use for the embedded one) and drains in the
 * `relay` shutdown phase, after consumers stopped and before connections close.
 */
export const outboxPlugin = definePlugin({
  name: 'outbox',
  dependencies: ['health', 'metrics', 'database', 'messaging'],
  config: outboxConfigSchema,
  register(ctx) {
    const settings = ctx.config.get('outbox');
    ctx.db.addMigrations('outbox', OUTBOX_MIGRATIONS, { whenUsed: true });
    ctx.provide(
      'outbox',
      new Outbox({
        encode: (message) => encodeMessage(message, ctx.name, ctx.messaging.producerHeaders(message.topic)),
      }),
    );

    let cached: { at: number; stats: Promise<BacklogStats> } | undefined;
    const backlog = (): Promise<BacklogStats> => {
      if (!ctx.db.opened) return Promise.resolve({ pending: 0, oldestAgeSeconds: 0 });
      if (!cached || performance.now() - cached.at > STATS_CACHE_MS)
        cached = { at: performance.now(), stats: outboxStore.backlog(ctx.db) };
      return cached.stats;
    };
    ctx.metrics.gauge({
      name: 'outbox_pending_rows',
      help: 'Outbox rows committed and not yet confirmed by the broker.',
      async collect() {
        this.set((await backlog().catch(() => ({ pending: Number.NaN }))).pending);
      },
    });
    ctx.metrics.gauge({
      name: 'outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest unpublished outbox row (0 when none).',
      async collect() {
        this.set((await backlog().catch(() => ({ oldestAgeSeconds: Number.NaN }))).oldestAgeSeconds);
      },
    });
    ctx.health.add({
      name: 'outbox',
      critical: settings.backlog.failReadiness,
      async check() {
        const stats = await backlog();
        const result = { observedValue: Math.round(stats.oldestAgeSeconds * 1000), observedUnit: 'ms' };
        if (stats.oldestAgeSeconds * 1000 > settings.backlog.maxAgeMs)
          return {
            ...result,
            status: 'fail' as const,
            output: `${stats.pending} rows pending, the oldest for longer than ${settings.backlog.maxAgeMs} ms`,
          };
        return result;
      },
    });
    if (!settings.relay.enabled) return;
    // A broker outage delays the relay; requests that write to the outbox still succeed.
    ctx.messaging.bufferPublishes();

    const relay = new OutboxRelay({
      db: ctx.db,
      send: (message) => ctx.messaging.send(message),
      settings: { ...settings.relay, retentionMs: settings.retentionMs, retry: settings.retry },
      metrics: {
        published: ctx.metrics.counter({
          name: 'outbox_published_total',
          help: 'Outbox rows published and confirmed by the broker.',
          labelNames: ['topic'],
        }),
        failed: ctx.metrics.counter({
          name: 'outbox_publish_failures_total',
          help: 'Outbox publishes that failed and will be retried, by reason (unroutable, error).',
          labelNames: ['topic', 'reason'],
        }),
        latency: ctx.metrics.histogram({
          name: 'outbox_publish_latency_seconds',
          help: 'Time from the row being written to the broker confirm.',
          labelNames: ['topic'],
          buckets: SECONDS,
        }),
      },
      log: ctx.log,
    });
    ctx.db.onOpen(() => relay.start());
    ctx.onStop(() => relay.stop(), { phase: 'relay' });
  },
});
