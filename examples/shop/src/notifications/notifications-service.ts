import { setTimeout as sleep } from 'node:timers/promises';
import { type CreateServiceOptions, createService } from '@keelson/chassis';
import { checkOrderPlaced, NOTIFICATION_SENT, type NotificationSent, ORDER_PLACED } from '../messages.js';
import { configDir } from '../shop-services.js';

const config = {
  delivery: {
    latencyMs: {
      doc: 'Simulated time in ms the notification provider takes per message (the shop sends nothing real).',
      format: 'nat',
      default: 0,
      env: 'DELIVERY_LATENCY_MS',
    },
  },
} as const;

/**
 * notifications: a worker (HTTP serves health, metrics and docs only). It consumes `order.placed`
 * idempotently, records one notification per order and publishes `notification.sent` through its
 * outbox, all in the consumer's transaction. A payload that is not an order goes to the DLQ with
 * the reason after the consumer's retries.
 */
export async function createNotificationsService(options: Partial<CreateServiceOptions<typeof config>> = {}) {
  const svc = await createService({
    name: 'notifications',
    version: '1.0.0',
    configDir: configDir('notifications'),
    config,
    ...options,
  });
  svc.db.addMigrations('notifications', [
    {
      version: 1,
      name: 'notifications',
      sql: `create table notifications (
              order_id text primary key,
              message text not null,
              sent_at timestamptz not null default now());`,
    },
  ]);

  svc.messaging.consume(
    ORDER_PLACED,
    async (message, { tx }) => {
      const order = checkOrderPlaced(message.payload);
      const latencyMs = svc.config.get('delivery.latencyMs');
      if (latencyMs > 0) await sleep(latencyMs);
      const text = `Order ${order.orderId}: ${order.quantity} × ${order.sku} is on its way.`;
      const recorded = await tx?.query(
        'insert into notifications (order_id, message) values ($1, $2) on conflict (order_id) do nothing returning order_id',
        [order.orderId, text],
      );
      // A second order.placed of one order (another message id) notifies nobody twice.
      if (recorded?.rows.length === 0) return;
      await svc.outbox.enqueue<NotificationSent>(tx!, {
        topic: NOTIFICATION_SENT,
        key: order.orderId,
        payload: { orderId: order.orderId },
      });
      svc.log.info({ orderId: order.orderId }, 'notification sent');
    },
    { idempotent: true },
  );
  return svc;
}
