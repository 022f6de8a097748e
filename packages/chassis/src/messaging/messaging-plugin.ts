import { ConfigError } from '../config/index.js';
import { definePlugin, refuseEmbeddedInProduction } from '../core/index.js';
import { AmqpTransport } from './amqp-transport.js';
import { messagingConfigSchema } from './config-schema.js';
import { InProcessTransport } from './in-process-transport.js';
import { Messaging } from './messaging.js';
import { createMessagingMetrics } from './messaging-metrics.js';
import type { Transport } from './transport-port.js';

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** Messages: `ctx.messaging.publish(...)`, `ctx.messaging.consume(topic, handler, options)`. */
    messaging: Messaging;
  }
}

const INBOX_MIGRATIONS = [
  {
    version: 1,
    name: 'inbox',
    sql: `create table keelson_inbox (
      consumer text not null,
      message_id text not null,
      processed_at timestamptz not null default now(),
      primary key (consumer, message_id)
    );
    create index keelson_inbox_processed_at on keelson_inbox (processed_at);`,
  },
];

/**
 * The in-process transport. In production without `messaging.url` (unless allowed), publishing fails
 * with the error naming the key: a published message would reach only this process and be lost at
 * the next restart (the outbox keeps its rows and retries until the key is set).
 */
function inProcessTransport(ctx: Parameters<typeof refuseEmbeddedInProduction>[0]): Transport {
  const transport = new InProcessTransport();
  try {
    refuseEmbeddedInProduction(
      ctx,
      'messaging.url',
      'messages this service publishes would reach only this process, and be lost at every restart',
      'an amqp:// or amqps:// URL',
    );
  } catch (refusal) {
    transport.publish = () => Promise.reject(refusal);
  }
  return transport;
}

/**
 * Messaging over RabbitMQ (`messaging.url`) or the in-process transport. Consumers start with the
 * service and stop in the `consumers` shutdown phase (in-flight handlers finish); the broker
 * connection closes in `connections`, after the outbox relay flushed in `relay`.
 */
export const messagingPlugin = definePlugin({
  name: 'messaging',
  dependencies: ['health', 'metrics', 'tracing', 'database'],
  config: messagingConfigSchema,
  register(ctx) {
    const settings = ctx.config.get('messaging');
    const transport: Transport = settings.url
      ? new AmqpTransport({
          url: settings.url,
          exchange: settings.exchange,
          heartbeatSeconds: settings.heartbeatSeconds,
          publishTimeoutMs: settings.publishTimeoutMs,
          reconnect: settings.reconnect,
          source: ctx.name,
          log: ctx.log,
        })
      : inProcessTransport(ctx);
    const delaysMs = settings.retry.delaysMs.map(Number);
    const bad = delaysMs.find((d) => !Number.isFinite(d) || d < 0);
    if (bad !== undefined)
      throw new ConfigError([
        {
          key: 'messaging.retry.delaysMs',
          problem: `${bad} is not a delay in ms`,
          origin: ctx.config.explain().find((e) => e.key === 'messaging.retry.delaysMs')?.origin ?? 'unknown',
          expected: 'a list of whole numbers of ms',
        },
      ]);
    ctx.db.addMigrations('messaging', INBOX_MIGRATIONS, { whenUsed: true });

    const messaging = new Messaging({
      transport,
      service: ctx.name,
      prefetch: settings.prefetch,
      retry: { maxAttempts: settings.retry.maxAttempts, delaysMs: delaysMs.length > 0 ? delaysMs : [1000] },
      tracing: ctx.tracing,
      metrics: createMessagingMetrics(ctx.metrics),
      log: ctx.log,
      errors: ctx.errors,
      inbox: (queue, messageId, fn) =>
        ctx.db.transaction(async (tx) => {
          if (messageId === undefined) {
            await fn(tx);
            return true;
          }
          // An empty key would make every later message without an id a "duplicate".
          if (messageId.trim() === '') throw new TypeError(`inbox of "${queue}": the message id is empty`);
          const recorded = await tx.query(
            'insert into keelson_inbox (consumer, message_id) values ($1, $2) on conflict do nothing',
            [queue, messageId],
          );
          if (recorded.rowCount === 0) return false;
          await fn(tx);
          return true;
        }),
    });
    ctx.provide('messaging', messaging);
    ctx.health.add({
      name: `messaging:${transport.kind}`,
      check: () => transport.ping(),
      // Read at every check: the outbox declares itself after this plugin registered.
      get critical() {
        return !messaging.publishesBuffered;
      },
    });

    // Batches until a short one, so that cleanup keeps up with any message rate.
    const deleteOldInboxEntries = async () => {
      try {
        for (let i = 0; i < 50; i++) {
          const { rowCount } = await ctx.db.query(
            `delete from keelson_inbox where ctid in (select ctid from keelson_inbox
               where processed_at < now() - make_interval(secs => $1::double precision / 1000) limit 5000)`,
            [settings.inbox.retentionMs],
          );
          if (rowCount < 5000) break;
        }
      } catch (error) {
        ctx.log.warn({ err: error }, 'inbox cleanup failed');
      }
    };
    let cleanup: NodeJS.Timeout | undefined;
    ctx.onStart(async () => {
      if (!settings.url && messaging.queues.length > 0)
        refuseEmbeddedInProduction(
          ctx,
          'messaging.url',
          `its consumers (${messaging.queues.join(', ')}) would only see messages published by this process, and lose them at every restart`,
          'an amqp:// or amqps:// URL',
        );
      await messaging.start();
      // Old inbox entries go, in small batches, whenever the database is in use.
      cleanup = setInterval(() => {
        if (ctx.db.opened) void deleteOldInboxEntries();
      }, 60_000).unref();
    });
    ctx.onStop(() => messaging.stopConsumers(), { phase: 'consumers' });
    ctx.onStop(
      async () => {
        clearInterval(cleanup);
        await messaging.close();
      },
      { phase: 'connections' },
    );
  },
});
