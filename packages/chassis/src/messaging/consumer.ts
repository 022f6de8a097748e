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

/**
 * What an idempotent consumer does with a message that has no message id (producers outside
 * Keelson often send none), so that it is never taken for a duplicate: `dead-letter` it with the
 * reason "no message id" (the default: the handler's promise of running once per message holds),
 * or `handle` it without deduplication.
 */
export type WithoutMessageId = 'dead-letter' | 'handle';

/** Lines about messages without an id: the first, then at most one per this interval per queue. */
const WITHOUT_ID_LOG_EVERY_MS = 60_000;

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
  /**
   * Runs `fn` in a transaction after recording the message id; resolves false for a duplicate.
   * Without an id, it runs `fn` in a transaction and records nothing.
   */
  inbox?: (messageId: string | undefined, fn: (tx: Transaction) => Promise<void>) => Promise<boolean>;
  /** With an inbox: what happens to a message without an id. */
  withoutMessageId: WithoutMessageId;
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
 * the inbox in the handler's transaction, so a duplicate is acked without running the handler; a
 * message without an id is dead-lettered or handled without deduplication (`withoutMessageId`).
 */
export function createDeliveryHandler(deps: ConsumerDependencies): (delivery: Delivery) => Promise<void> {
  const { queue, system, handler, retry, inbox, withoutMessageId, tracing, metrics, log, errors } = deps;
  // `messages`: how many arrived without an id since the previous line (this one included).
  const warnWithoutId = everyInterval(WITHOUT_ID_LOG_EVERY_MS, (messages: number, topic: string) =>
    log.warn(
      { queue, topic, withoutMessageId, messages },
      withoutMessageId === 'handle'
        ? 'message without a message id: handled without deduplication'
        : 'message without a message id: dead-lettered (consume option withoutMessageId)',
    ),
  );
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
    const missingId = raw.id.trim() === '';
    if (inbox && missingId) {
      warnWithoutId(raw.topic);
      if (withoutMessageId === 'dead-letter') {
        metrics.failed.inc({ ...labels, reason: 'no-message-id' });
        return delivery.deadLetter('no message id');
      }
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
        return inbox(missingId ? undefined : raw.id, (tx) => Promise.resolve(handler(message, { tx })));
      });
      await delivery.ack();
      const outcome = !handled ? 'duplicate' : inbox && missingId ? 'no-message-id' : 'ok';
      metrics.handled.inc({ ...labels, outcome });
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

/** Calls `fn` the first time, then at most once per `everyMs`, with the number of calls it stands for. */
function everyInterval<A extends unknown[]>(
  everyMs: number,
  fn: (calls: number, ...args: A) => void,
): (...args: A) => void {
  let last = Number.NEGATIVE_INFINITY;
  let calls = 0;
  return (...args) => {
    calls++;
    const now = performance.now();
    if (now - last < everyMs) return;
    last = now;
    fn(calls, ...args);
    calls = 0;
  };
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 1000);
}
