import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import type { Logger } from 'pino';
import { AmqpConnection } from './amqp-connection.js';
import {
  type Delivery,
  deadLetterHeaders,
  isInternalHeader,
  type Subscription,
  type SubscriptionSpec,
  type Transport,
  type TransportMessage,
  UnroutableError,
  withoutDeadLetterHeaders,
} from './transport-port.js';

/** Attempt number of a delivery, carried by the copies this transport re-publishes. */
const ATTEMPT_HEADER = 'x-keelson-attempt';
const KEY_HEADER = 'x-keelson-key';
const PUBLISH_HEADER = 'x-keelson-publish';
/** The timestamp in ms: the AMQP `timestamp` property counts whole seconds. */
const TIMESTAMP_HEADER = 'x-keelson-timestamp-ms';

export interface AmqpTransportOptions {
  url: string;
  exchange: string;
  heartbeatSeconds: number;
  publishTimeoutMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  /** Producing service: `appId` of every message, and the connection's name. */
  source: string;
  log: Logger;
}

interface ActiveSubscription {
  spec: SubscriptionSpec;
  onDelivery: (delivery: Delivery) => Promise<void>;
  channel: Channel | undefined;
  consumerTag: string | undefined;
  inFlight: Set<Promise<void>>;
  cancelled: boolean;
  /** Timer of the next attempt to consume again after its channel failed. */
  retry?: NodeJS.Timeout;
}

/**
 * RabbitMQ through amqplib. Every publish goes to one topic exchange with `mandatory` on a confirm
 * channel and is persistent: it resolves on the broker's ack, and rejects on a nack, on a return
 * (no queue bound) or when the connection drops first. Each subscription has its own channel and
 * prefetch; its queue has a dead-letter queue `<queue>.dlq`, and delayed retries go through
 * `<queue>.retry.<ms>` queues whose TTL dead-letters the message back into the queue. After a
 * reconnect, the exchange, the queues and the consumers are declared again.
 */
export class AmqpTransport implements Transport {
  readonly kind = 'amqp';
  readonly #options: AmqpTransportOptions;
  readonly #connection: AmqpConnection;
  readonly #subscriptions = new Set<ActiveSubscription>();
  #publisher: ConfirmChannel | undefined;
  #opening: Promise<ConfirmChannel> | undefined;
  /** Numbers each publish, so that a return is matched to its publish even when a message id repeats. */
  #publishes = 0;
  /** Publish numbers the broker returned as unroutable, until their confirm arrives. */
  readonly #returned = new Set<string>();
  readonly #retryQueues = new Set<string>();

  constructor(options: AmqpTransportOptions) {
    this.#options = options;
    this.#connection = new AmqpConnection({
      url: options.url,
      heartbeatSeconds: options.heartbeatSeconds,
      initialDelayMs: options.reconnect.initialDelayMs,
      maxDelayMs: options.reconnect.maxDelayMs,
      connectionName: options.source,
      log: options.log,
      onConnected: (connection) => this.#onConnected(connection),
    });
  }

  start(): Promise<void> {
    return this.#connection.start();
  }

  async publish(message: TransportMessage): Promise<void> {
    const channel = await this.#publishChannel();
    await this.#confirm(
      channel,
      this.#options.exchange,
      message.topic,
      message.body,
      this.#properties(message),
    );
  }

  async subscribe(
    spec: SubscriptionSpec,
    onDelivery: (delivery: Delivery) => Promise<void>,
  ): Promise<Subscription> {
    const subscription: ActiveSubscription = {
      spec,
      onDelivery,
      channel: undefined,
      consumerTag: undefined,
      inFlight: new Set(),
      cancelled: false,
    };
    this.#subscriptions.add(subscription);
    const connection = this.#connection.current;
    if (connection) await this.#consumeOrRetry(connection, subscription);
    return {
      cancel: async () => {
        await this.#stopSubscription(subscription);
        await subscription.channel?.close().catch(() => {});
      },
    };
  }

  async redrive(queue: string, limit = Number.POSITIVE_INFINITY): Promise<number> {
    return this.#withDeadLetters(
      queue,
      async (channel, dlq, waiting) => {
        let moved = 0;
        // Only what is there now: messages dead-lettered again meanwhile wait for the next redrive.
        while (moved < Math.min(limit, waiting)) {
          const dead = await channel.get(dlq, { noAck: false });
          if (!dead) break;
          const headers = withoutDeadLetterHeaders(
            (dead.properties.headers ?? {}) as Record<string, unknown>,
          );
          delete headers[ATTEMPT_HEADER];
          const publisher = await this.#publishChannel();
          await this.#confirm(publisher, '', queue, dead.content, {
            ...dead.properties,
            headers,
          } as Options.Publish);
          channel.ack(dead);
          moved++;
        }
        return moved;
      },
      0,
    );
  }

  async deadLetters(queue: string, limit = 100): Promise<TransportMessage[]> {
    // Closing the channel without acks puts every message back where it was.
    return this.#withDeadLetters(
      queue,
      async (channel, dlq, waiting) => {
        const found: TransportMessage[] = [];
        while (found.length < Math.min(limit, waiting)) {
          const dead = await channel.get(dlq, { noAck: false });
          if (!dead) break;
          found.push(decode(dead));
        }
        return found;
      },
      [],
    );
  }

  /** Runs `work` on a channel of its own; a queue without dead-letter queue gives `none`. */
  async #withDeadLetters<T>(
    queue: string,
    work: (channel: Channel, dlq: string, waiting: number) => Promise<T>,
    none: T,
  ): Promise<T> {
    const connection = await this.#connection.whenConnected(this.#options.publishTimeoutMs);
    const channel = await connection.createChannel();
    // A missing queue closes the channel with an error; without a listener it would close the connection.
    channel.on('error', () => {});
    const dlq = `${queue}.dlq`;
    try {
      const { messageCount } = await channel.checkQueue(dlq);
      return await work(channel, dlq, messageCount);
    } catch (error) {
      if ((error as { code?: number }).code === 404) return none;
      throw error;
    } finally {
      await channel.close().catch(() => {});
    }
  }

  async ping(): Promise<void> {
    if (!this.#connection.current) throw new Error('not connected to the broker');
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#subscriptions].map((s) => this.#stopSubscription(s)));
    await this.#connection.close();
  }

  /** No new deliveries, no retry to consume again; resolves when the deliveries in flight ended. */
  async #stopSubscription(subscription: ActiveSubscription): Promise<void> {
    subscription.cancelled = true;
    clearTimeout(subscription.retry);
    this.#subscriptions.delete(subscription);
    const { channel, consumerTag } = subscription;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => {});
    await Promise.allSettled([...subscription.inFlight]);
  }

  async #onConnected(connection: ChannelModel): Promise<void> {
    // amqplib's recovery listens for errors only once this setup is done: an error before would crash.
    connection.on('error', (error: Error) =>
      this.#options.log.warn({ err: error }, 'broker connection error'),
    );
    this.#publisher = await this.#openPublisher(connection);
    this.#retryQueues.clear();
    // One queue that cannot be declared must not keep the others (and publishing) down.
    for (const subscription of this.#subscriptions) await this.#consumeOrRetry(connection, subscription);
  }

  async #openPublisher(connection: ChannelModel): Promise<ConfirmChannel> {
    const publisher = await connection.createConfirmChannel();
    publisher.on('error', (error: Error) => this.#options.log.warn({ err: error }, 'publish channel error'));
    publisher.on('return', (returned: ConsumeMessage) => {
      const nonce = returned.properties.headers?.[PUBLISH_HEADER];
      if (nonce !== undefined) this.#returned.add(String(nonce));
    });
    publisher.on('close', () => {
      if (this.#publisher === publisher) this.#publisher = undefined;
    });
    await publisher.assertExchange(this.#options.exchange, 'topic', { durable: true });
    return publisher;
  }

  async #publishChannel(): Promise<ConfirmChannel> {
    if (this.#publisher) return this.#publisher;
    const connection = await this.#connection.whenConnected(this.#options.publishTimeoutMs);
    // The connection is up but the channel was closed by a channel error: open another, once.
    this.#opening ??= this.#openPublisher(connection)
      .then((publisher) => {
        this.#publisher = publisher;
        return publisher;
      })
      .finally(() => {
        this.#opening = undefined;
      });
    return this.#opening;
  }

  /** Publishes and resolves on the broker's ack; a return before the ack means unroutable. */
  #confirm(
    channel: ConfirmChannel,
    exchange: string,
    routingKey: string,
    body: Buffer,
    properties: Options.Publish,
  ): Promise<void> {
    const nonce = String(++this.#publishes);
    const headers = { ...properties.headers, [PUBLISH_HEADER]: nonce };
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no confirm from the broker within ${this.#options.publishTimeoutMs} ms`)),
        this.#options.publishTimeoutMs,
      );
      try {
        channel.publish(exchange, routingKey, body, { ...properties, headers, mandatory: true }, (error) => {
          clearTimeout(timer);
          const returned = this.#returned.delete(nonce);
          if (error)
            reject(error instanceof Error ? error : new Error(`the broker refused the message: ${error}`));
          else if (returned) reject(new UnroutableError(routingKey));
          else resolve();
        });
      } catch (error) {
        clearTimeout(timer);
        reject(error);
      }
    });
  }

  #properties(message: TransportMessage, attempt?: number): Options.Publish {
    const headers: Record<string, string | number> = {
      ...message.headers,
      [TIMESTAMP_HEADER]: message.timestamp,
    };
    if (message.key !== undefined) headers[KEY_HEADER] = message.key;
    if (attempt !== undefined) headers[ATTEMPT_HEADER] = attempt;
    return {
      // A message that came without an id or content type is forwarded without one, not with "".
      ...(message.id !== '' ? { messageId: message.id } : {}),
      ...(message.contentType !== '' ? { contentType: message.contentType } : {}),
      type: message.topic,
      timestamp: Math.floor(message.timestamp / 1000),
      appId: message.source,
      persistent: true,
      headers,
    };
  }

  /**
   * Declares the subscription's queues and consumes; when that fails, or its channel closes later
   * while the connection stays up (a channel error, the broker's consumer timeout, the queue
   * deleted), it tries again after a delay. A lost connection is left to the reconnect.
   */
  async #consumeOrRetry(connection: ChannelModel, subscription: ActiveSubscription): Promise<void> {
    if (subscription.cancelled) return;
    try {
      await this.#consume(connection, subscription);
    } catch (error) {
      this.#options.log.warn({ err: error, queue: subscription.spec.queue }, 'cannot consume: trying again');
      this.#consumeLater(connection, subscription);
    }
  }

  #consumeLater(connection: ChannelModel, subscription: ActiveSubscription): void {
    clearTimeout(subscription.retry);
    subscription.retry = setTimeout(() => {
      if (!subscription.cancelled && this.#connection.current === connection)
        void this.#consumeOrRetry(connection, subscription);
    }, this.#options.reconnect.initialDelayMs * 4);
  }

  async #consume(connection: ChannelModel, subscription: ActiveSubscription): Promise<void> {
    const { queue, topics, prefetch } = subscription.spec;
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) =>
      this.#options.log.warn({ err: error, queue }, 'consumer channel error'),
    );
    channel.on('close', () => {
      if (
        subscription.channel === channel &&
        !subscription.cancelled &&
        this.#connection.current === connection
      )
        this.#consumeLater(connection, subscription);
    });
    await channel.prefetch(prefetch);
    await channel.assertExchange(this.#options.exchange, 'topic', { durable: true });
    await channel.assertQueue(`${queue}.dlq`, { durable: true });
    // A message rejected without requeue (or expired) lands in the dead-letter queue, never lost.
    await channel.assertQueue(queue, {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${queue}.dlq` },
    });
    for (const topic of topics) await channel.bindQueue(queue, this.#options.exchange, topic);
    subscription.channel = channel;
    if (subscription.cancelled) return void (await channel.close().catch(() => {}));
    const { consumerTag } = await channel.consume(queue, (raw) => {
      // Cancelled by the broker (queue deleted): declare it and consume again.
      if (!raw) return void channel.close().catch(() => {});
      const handled = this.#deliver(channel, subscription, raw);
      subscription.inFlight.add(handled);
      void handled.finally(() => subscription.inFlight.delete(handled));
    });
    subscription.consumerTag = consumerTag;
  }

  async #deliver(channel: Channel, subscription: ActiveSubscription, raw: ConsumeMessage): Promise<void> {
    const { queue } = subscription.spec;
    const message = decode(raw);
    const attempt = Number(raw.properties.headers?.[ATTEMPT_HEADER] ?? 1) || 1;
    let settled = false;
    const settle = async (what: string, forward?: () => Promise<void>) => {
      if (settled) throw new Error(`delivery of message ${message.id} was already settled; cannot ${what}`);
      settled = true;
      try {
        await forward?.();
      } catch (error) {
        // Not forwarded: the message is nacked back to the queue below, not left unacknowledged.
        settled = false;
        throw error;
      }
      // An ack on a channel that has since closed is void: the broker redelivers the message.
      try {
        channel.ack(raw);
      } catch {}
    };
    const delivery: Delivery = {
      message,
      attempt,
      redelivered: raw.fields.redelivered,
      ack: () => settle('ack'),
      retryLater: (delayMs) =>
        settle('retry', async () => {
          const retryQueue = await this.#retryQueue(queue, delayMs);
          const publisher = await this.#publishChannel();
          await this.#confirm(publisher, '', retryQueue, raw.content, this.#properties(message, attempt + 1));
        }),
      deadLetter: (reason) =>
        settle('dead-letter', async () => {
          const publisher = await this.#publishChannel();
          const properties = this.#properties(message, attempt);
          properties.headers = deadLetterHeaders(properties.headers ?? {}, {
            reason,
            attempt,
            topic: message.topic,
            queue,
          });
          await this.#confirm(publisher, '', `${queue}.dlq`, raw.content, properties);
        }),
    };
    try {
      await subscription.onDelivery(delivery);
    } catch (error) {
      this.#options.log.warn(
        { err: error, queue, messageId: message.id },
        'delivery failed before it was settled',
      );
    }
    // Not settled (the handler path failed itself): back to the queue, delivered again.
    if (!settled) {
      try {
        channel.nack(raw, false, true);
      } catch {}
    }
  }

  /** `<queue>.retry.<ms>`: its TTL dead-letters each message back into the queue after the delay. */
  async #retryQueue(queue: string, delayMs: number): Promise<string> {
    const name = `${queue}.retry.${Math.round(delayMs)}`;
    if (this.#retryQueues.has(name)) return name;
    const publisher = await this.#publishChannel();
    await publisher.assertQueue(name, {
      durable: true,
      arguments: {
        'x-message-ttl': Math.round(delayMs),
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': queue,
      },
    });
    this.#retryQueues.add(name);
    return name;
  }
}

function decode(raw: Message): TransportMessage {
  const { properties } = raw;
  const own = properties.headers ?? {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(own)) {
    if (isInternalHeader(name) || value === undefined || value === null) continue;
    headers[name] = Buffer.isBuffer(value) ? value.toString() : String(value);
  }
  const key = own[KEY_HEADER];
  return {
    id: String(properties.messageId ?? ''),
    topic: String(properties.type ?? raw.fields.routingKey),
    ...(key !== undefined && key !== null ? { key: String(key) } : {}),
    timestamp: timestampOf(properties),
    source: String(properties.appId ?? ''),
    contentType: String(properties.contentType ?? ''),
    headers,
    body: raw.content,
  };
}

/** Epoch ms: the chassis's ms header, else the AMQP property (seconds), else the time of receipt. */
function timestampOf(properties: Message['properties']): number {
  const ms = Number(properties.headers?.[TIMESTAMP_HEADER]);
  if (Number.isFinite(ms) && ms > 0) return ms;
  return typeof properties.timestamp === 'number' ? properties.timestamp * 1000 : Date.now();
}
