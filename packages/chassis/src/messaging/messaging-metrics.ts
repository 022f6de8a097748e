import type { Counter, Histogram } from 'prom-client';
import type { ServiceMetrics } from '../metrics/index.js';

export interface ConsumerMetrics {
  handled: Counter<'queue' | 'topic' | 'outcome'>;
  failed: Counter<'queue' | 'topic' | 'reason'>;
  redeliveries: Counter<'queue' | 'topic'>;
  duration: Histogram<'queue' | 'topic'>;
}

export interface PublisherMetrics {
  published: Counter<'topic'>;
  failed: Counter<'topic' | 'reason'>;
  duration: Histogram<'topic'>;
}

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMessagingMetrics(metrics: ServiceMetrics): {
  consumer: ConsumerMetrics;
  publisher: PublisherMetrics;
} {
  return {
    consumer: {
      handled: metrics.counter({
        name: 'messaging_consumer_handled_total',
        help: 'Messages handled and acknowledged, by outcome: ok, duplicate (skipped by the inbox), no-message-id (an idempotent consumer handled it without deduplication).',
        labelNames: ['queue', 'topic', 'outcome'],
      }),
      failed: metrics.counter({
        name: 'messaging_consumer_failed_total',
        help: 'Failed deliveries, by what happened next: retry, dead-lettered, malformed (payload not what its content type says; dead-lettered at once), no-message-id (an idempotent consumer dead-lettered it at once).',
        labelNames: ['queue', 'topic', 'reason'],
      }),
      redeliveries: metrics.counter({
        name: 'messaging_consumer_redeliveries_total',
        help: 'Deliveries the broker marked as redelivered (a consumer or connection went away before the ack).',
        labelNames: ['queue', 'topic'],
      }),
      duration: metrics.histogram({
        name: 'messaging_consumer_duration_seconds',
        help: 'Time from delivery to settlement (handler, inbox transaction, ack or retry).',
        labelNames: ['queue', 'topic'],
        buckets: SECONDS,
      }),
    },
    publisher: {
      published: metrics.counter({
        name: 'messaging_published_total',
        help: 'Messages the broker confirmed.',
        labelNames: ['topic'],
      }),
      failed: metrics.counter({
        name: 'messaging_publish_failures_total',
        help: 'Publishes that failed, by reason: unroutable (no queue bound), error (nack, timeout, connection lost).',
        labelNames: ['topic', 'reason'],
      }),
      duration: metrics.histogram({
        name: 'messaging_publish_duration_seconds',
        help: 'Time from publish to the broker confirm.',
        labelNames: ['topic'],
        buckets: SECONDS,
      }),
    },
  };
}
