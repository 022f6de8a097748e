import { context, isSpanContextValid, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { ErrorChannel } from '../core/index.js';
import type { Transaction } from '../database/index.js';
import type { Tracing } from '../tracing/index.js';
import { decodePayload, type IncomingMessage } from './message.js';
import type { ConsumerMetrics } from './messaging-metrics.js';
import { type Delivery, isInternalHeader } from './transport-port.js';

export interface HandlerContext {
  /** The transaction the inbox entry is written in (idempotent consumers): write through it. */
  tx?: Transaction;
}

export type MessageHandler<T = unknown> = (
  message: IncomingMessage<T>,
  context: HandlerContext,
) => void | Promise<void>;

export interface RetrySettings {
  maxAttempts: number;
  delaysMs: readonly number[];
}

export interface ConsumerDependencies {
  queue: string;
  /** `messaging.system` of the spans: rabbitmq or in-process. */
  system: string;
  handler: MessageHandler;
  retry: RetrySettings;
  /** Runs `fn` in a transaction after recording the message id; resolves false for a duplicate. */
  inbox?: (messageId: string, fn: (tx: Transaction) => Promise<void>) => Promise<boolean>;
  tracing: Pick<Tracing, 'enabled' | 'tracer' | 'extract'>;
  metrics: ConsumerMetrics;
  log: Logger;
  /** Where handler failures are reported (every failed attempt). */
  errors?: Pick<ErrorChannel, 'report'>;
}

/**
 * What happens to one delivery, whatever the transport: the handler runs inside a consumer span
 * that continues the producer's trace; success acks; a failure is retried after a growing delay
 * until `maxAttempts`, then dead-lettered with the error; a payload that cannot be parsed is
 * dead-lettered at once (retrying cannot fix it). Idempotent consumers record the message id in
 * the inbox in the handler's transaction, so a duplicate is acked without running the handler.
 */
export function createDeliveryHandler(deps: ConsumerDependencies): (delivery: Delivery) => Promise<void> {
  const { queue, system, handler, retry, inbox, tracing, metrics, log, errors } = deps;
  return async (delivery) => {
    const { message: raw, attempt } = delivery;
    const labels = { queue, topic: raw.topic };
    if (delivery.redelivered) metrics.redeliveries.inc(labels);
    const began = performance.now();

    let payload: unknown;
    try {
      payload = decodePayload(raw);
    } catch (error) {
      metrics.failed.inc({ ...labels, reason: 'malformed' });
      log.warn({ err: error, messageId: raw.id, queue }, 'malformed message: dead-lettered');
      return delivery.deadLetter(
        `malformed payload (${raw.contentType || 'no content type'}): ${(error as Error).message}`,
      );
    }
    const message: IncomingMessage = {
      id: raw.id,
      topic: raw.topic,
      ...(raw.key !== undefined ? { key: raw.key } : {}),
      payload,
      headers: Object.fromEntries(Object.entries(raw.headers).filter(([name]) => !isInternalHeader(name))),
      timestamp: new Date(raw.timestamp),
      source: raw.source,
      attempt,
      redelivered: delivery.redelivered,
    };

    const parent = tracing.extract(raw.headers);
    const span = tracing.enabled
      ? tracing.tracer.startSpan(
          `process ${raw.topic}`,
          {
            kind: SpanKind.CONSUMER,
            attributes: {
              'messaging.system': system,
              'messaging.operation.type': 'process',
              'messaging.destination.name': raw.topic,
              'messaging.consumer.group.name': queue,
              'messaging.message.id': raw.id,
              'messaging.delivery.attempt': attempt,
            },
          },
          parent,
        )
      : undefined;
    const active = span ? trace.setSpan(parent, span) : parent;
    try {
      const handled = await context.with(active, async () => {
        if (!inbox) {
          await handler(message, {});
          return true;
        }
        return inbox(raw.id, (tx) => Promise.resolve(handler(message, { tx })));
      });
      await delivery.ack();
      metrics.handled.inc({ ...labels, outcome: handled ? 'ok' : 'duplicate' });
      metrics.duration.observe(labels, (performance.now() - began) / 1000);
    } catch (error) {
      span?.recordException(error as Error);
      span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      metrics.duration.observe(labels, (performance.now() - began) / 1000);
      const ids = span?.spanContext() ?? trace.getSpanContext(parent);
      const reported = errors?.report(error, {
        source: 'consumer',
        topic: raw.topic,
        queue,
        messageId: raw.id,
        attempt,
        deadLettered: attempt >= retry.maxAttempts,
        ...(ids && isSpanContextValid(ids) ? { traceId: ids.traceId, spanId: ids.spanId } : {}),
      });
      // Exception tracking logs the stack (once per kind of error); these lines keep the decision.
      const failure = reported ? { error: describeError(error) } : { err: error };
      if (attempt < retry.maxAttempts) {
        const delayMs = retry.delaysMs[Math.min(attempt - 1, retry.delaysMs.length - 1)] ?? 1000;
        metrics.failed.inc({ ...labels, reason: 'retry' });
        log.warn(
          { ...failure, messageId: raw.id, queue, attempt, delayMs },
          'handler failed: retrying later',
        );
        await delivery.retryLater(delayMs);
      } else {
        metrics.failed.inc({ ...labels, reason: 'dead-lettered' });
        log.error(
          { ...failure, messageId: raw.id, queue, attempt },
          'handler failed on the last attempt: dead-lettered',
        );
        await delivery.deadLetter(describeError(error));
      }
    } finally {
      span?.end();
    }
  };
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 1000);
}
