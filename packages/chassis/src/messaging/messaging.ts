import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { ErrorChannel } from '../core/index.js';
import type { Transaction } from '../database/index.js';
import type { Tracing } from '../tracing/index.js';
import {
  createDeliveryHandler,
  type MessageHandler,
  type RetrySettings,
  type WithoutMessageId,
} from './consumer.js';
import { checkTopic, encodeMessage, type OutgoingMessage } from './message.js';
import type { ConsumerMetrics, PublisherMetrics } from './messaging-metrics.js';
import {
  type Subscription,
  type Transport,
  type TransportMessage,
  UnroutableError,
} from './transport-port.js';

export interface ConsumeOptions {
  /** Queue name; `<service>.<topic>` by default. Instances of a service share it (competing consumers). */
  queue?: string;
  /** Deliveries in flight at once; `messaging.prefetch` by default. */
  prefetch?: number;
  /** Record each message id in the inbox, in the handler's transaction: duplicates are skipped. */
  idempotent?: boolean;
  /**
   * Idempotent consumers: what happens to a message without a message id. `dead-letter` (default)
   * parks it in the dead-letter queue with the reason "no message id"; `handle` runs the handler
   * in a transaction without deduplication. Either way it is counted and logged (at most once a
   * minute per queue).
   */
  withoutMessageId?: WithoutMessageId;
  maxAttempts?: number;
  retryDelaysMs?: readonly number[];
}

export interface MessagingDependencies {
  transport: Transport;
  service: string;
  prefetch: number;
  retry: RetrySettings;
  tracing: Tracing;
  metrics: { consumer: ConsumerMetrics; publisher: PublisherMetrics };
  log: Logger;
  /** Where consumers report handler failures. */
  errors?: Pick<ErrorChannel, 'report'>;
  /**
   * The idempotent consumers' inbox: runs `fn` in a transaction after recording the id; false for
   * a duplicate. Without an id (`undefined`), runs `fn` in a transaction and records nothing.
   */
  inbox(
    queue: string,
    messageId: string | undefined,
    fn: (tx: Transaction) => Promise<void>,
  ): Promise<boolean>;
}

interface Registration {
  topics: string[];
  queue: string;
  prefetch: number;
  onDelivery: ReturnType<typeof createDeliveryHandler>;
  subscribing?: Promise<void>;
  subscription?: Subscription;
}

/**
 * `svc.messaging`: publish with a confirm, consume with retries, a dead-letter queue and optional
 * deduplication, and move dead letters back. Consumers registered before start begin with the
 * service; registered later, at once.
 */
export class Messaging {
  #publishesBuffered = false;
  readonly #deps: MessagingDependencies;
  readonly #registrations: Registration[] = [];
  #started = false;

  constructor(deps: MessagingDependencies) {
    this.#deps = deps;
  }

  /** `amqp` or `in-process`. */
  get transport(): Transport['kind'] {
    return this.#deps.transport.kind;
  }

  /** Publishes now (not in a transaction: see `svc.outbox` for that); resolves to the message id on the broker's confirm. */
  async publish<T>(message: OutgoingMessage<T>): Promise<string> {
    const { tracing, service } = this.#deps;
    checkTopic(message.topic);
    const span = this.#producerSpan(message.topic);
    const headers: Record<string, string> = {};
    tracing.inject(headers, span ? trace.setSpan(context.active(), span) : context.active());
    const encoded = encodeMessage(message, service, headers);
    span?.setAttribute('messaging.message.id', encoded.id);
    try {
      await this.send(encoded);
    } catch (error) {
      span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span?.end();
    }
    return encoded.id;
  }

  /** Publishes an envelope built before (the outbox relay's rows) and waits for the confirm. */
  async send(message: TransportMessage): Promise<void> {
    const { publisher } = this.#deps.metrics;
    const began = performance.now();
    try {
      await this.#deps.transport.publish(message);
      publisher.published.inc({ topic: message.topic });
      publisher.duration.observe({ topic: message.topic }, (performance.now() - began) / 1000);
    } catch (error) {
      publisher.failed.inc({
        topic: message.topic,
        reason: error instanceof UnroutableError ? 'unroutable' : 'error',
      });
      throw error;
    }
  }

  /**
   * Declares that publishes are buffered (by the outbox) and survive a broker outage: readiness
   * then reports the broker as a warning, not a failure, while it is unreachable.
   */
  bufferPublishes(): void {
    this.#publishesBuffered = true;
  }

  /** Whether a capability buffers this service's publishes (see {@link bufferPublishes}). */
  get publishesBuffered(): boolean {
    return this.#publishesBuffered;
  }

  /** Starts a producer span whose context travels in the message headers (outbox rows included). */
  producerHeaders(topic: string): Record<string, string> {
    const span = this.#producerSpan(topic);
    const headers: Record<string, string> = {};
    this.#deps.tracing.inject(headers, span ? trace.setSpan(context.active(), span) : context.active());
    span?.end();
    return headers;
  }

  consume<T = unknown>(
    topics: string | readonly string[],
    handler: MessageHandler<T>,
    options: ConsumeOptions = {},
  ): void {
    const list = typeof topics === 'string' ? [topics] : [...topics];
    if (list.length === 0) throw new TypeError('consume needs at least one topic');
    for (const topic of list) checkTopic(topic.replace(/[#*]/g, 'x'));
    const { service, prefetch, retry, tracing, metrics, log } = this.#deps;
    const queue = options.queue ?? `${service}.${list.join('+')}`;
    const queuePrefetch = options.prefetch ?? prefetch;
    if (!Number.isInteger(queuePrefetch) || queuePrefetch < 1)
      throw new TypeError(
        `prefetch of "${queue}" must be a whole number of at least 1, not ${queuePrefetch}`,
      );
    const withoutMessageId = options.withoutMessageId ?? 'dead-letter';
    if (withoutMessageId !== 'dead-letter' && withoutMessageId !== 'handle')
      throw new TypeError(
        `withoutMessageId of "${queue}" must be "dead-letter" or "handle", not ${JSON.stringify(withoutMessageId)}`,
      );
    if (this.#registrations.some((r) => r.queue === queue))
      throw new Error(`queue "${queue}" already has a consumer in this service; give one a queue option`);
    const registration: Registration = {
      topics: list,
      queue,
      prefetch: queuePrefetch,
      onDelivery: createDeliveryHandler({
        queue,
        system: this.#system,
        handler: handler as MessageHandler,
        retry: {
          maxAttempts: Math.max(1, options.maxAttempts ?? retry.maxAttempts),
          delaysMs: options.retryDelaysMs ?? retry.delaysMs,
        },
        ...(options.idempotent
          ? {
              inbox: (id: string | undefined, fn: (tx: Transaction) => Promise<void>) =>
                this.#deps.inbox(queue, id, fn),
            }
          : {}),
        withoutMessageId,
        tracing,
        metrics: metrics.consumer,
        log: log.child({ queue }),
        ...(this.#deps.errors ? { errors: this.#deps.errors } : {}),
      }),
    };
    this.#registrations.push(registration);
    if (this.#started) this.#subscribe(registration);
  }

  /** Moves up to `limit` dead-lettered messages of a queue back into it (attempts start again). */
  redrive(queue: string, limit?: number): Promise<number> {
    return this.#deps.transport.redrive(queue, limit);
  }

  /** Dead-lettered messages of a queue, left where they are; the reason is in their headers. */
  deadLetters(queue: string, limit = 100): Promise<TransportMessage[]> {
    return this.#deps.transport.deadLetters(queue, limit);
  }

  /** The queues of this service's consumers. */
  get queues(): string[] {
    return this.#registrations.map((r) => r.queue);
  }

  /**
   * Connects to the broker without starting consumers, and resolves once it answers; throws the
   * last error after `timeoutMs` (for tools such as `keelson doctor`).
   */
  async connect(timeoutMs: number): Promise<void> {
    const { transport } = this.#deps;
    await transport.start();
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await transport.ping();
      } catch (error) {
        if (Date.now() >= until) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async start(): Promise<void> {
    await this.#deps.transport.start();
    this.#started = true;
    await Promise.all(this.#registrations.map((r) => this.#subscribe(r)));
  }

  /** Stops deliveries and waits for the handlers in flight (the `consumers` shutdown phase). */
  async stopConsumers(): Promise<void> {
    this.#started = false;
    await Promise.all(
      this.#registrations.map(async (r) => {
        await r.subscribing;
        await r.subscription?.cancel();
      }),
    );
  }

  close(): Promise<void> {
    return this.#deps.transport.close();
  }

  get #system(): string {
    return this.#deps.transport.kind === 'amqp' ? 'rabbitmq' : 'in-process';
  }

  /** Subscribes; a failure is logged, never thrown at whoever called `consume` after start. */
  #subscribe(registration: Registration): Promise<void> {
    registration.subscribing = this.#deps.transport
      .subscribe(
        { queue: registration.queue, topics: registration.topics, prefetch: registration.prefetch },
        registration.onDelivery,
      )
      .then(
        (subscription) => {
          registration.subscription = subscription;
        },
        (error: unknown) => this.#deps.log.error({ err: error, queue: registration.queue }, 'cannot consume'),
      );
    return registration.subscribing;
  }

  #producerSpan(topic: string) {
    const { tracing } = this.#deps;
    if (!tracing.enabled) return undefined;
    return tracing.tracer.startSpan(`publish ${topic}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': this.#system,
        'messaging.operation.type': 'publish',
        'messaging.destination.name': topic,
      },
    });
  }
}
