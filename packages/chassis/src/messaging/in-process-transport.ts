import { AsyncResource } from 'node:async_hooks';
import { topicMatches } from './topic-pattern.js';
import {
  type Delivery,
  deadLetterHeaders,
  type Subscription,
  type SubscriptionSpec,
  type Transport,
  type TransportMessage,
  UnroutableError,
  withoutDeadLetterHeaders,
} from './transport-port.js';

type DeliveryHandler = (delivery: Delivery) => Promise<void>;

/** A message in a queue; the attempt is bookkept here, never written into the user's headers. */
interface Entry {
  message: TransportMessage;
  attempt: number;
  redelivered: boolean;
}

interface Consumer {
  prefetch: number;
  onDelivery: DeliveryHandler;
  /** Deliveries neither acked, retried nor dead-lettered: at most `prefetch`. */
  unsettled: number;
  /** `onDelivery` calls still running, each followed by its requeue when it left the delivery unsettled. */
  running: Set<Promise<void>>;
}

interface Queue {
  name: string;
  ready: Entry[];
  bindings: Set<string>;
  /** Active consumers only: a cancelled one is removed at once. */
  consumers: Consumer[];
  /** Round robin: index of the consumer offered the next message. */
  turn: number;
  dispatchScheduled: boolean;
}

/** Longest delay `setTimeout` honours: a longer one would fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The queues of every in-process transport of this process, so that services running in one process
 * (orders and inventory in a demo) talk to each other. Queues and their bindings live as long as the
 * process, like durable RabbitMQ queues: messages wait in them while no consumer is subscribed. The
 * dead letters of queue `q` are queue `q.dlq`, which can be consumed like any other.
 */
export class InProcessBroker {
  /** The broker that `new InProcessTransport()` uses. */
  static readonly shared = new InProcessBroker();
  readonly #queues = new Map<string, Queue>();
  /**
   * Schedules in the broker's own async context, not the publisher's: a delivery must not run
   * inside the publishing transaction's or span's context (a broker's deliveries come from its
   * socket), or a consumer would see the producer's open transaction as its own.
   */
  readonly #detached = AsyncResource.bind((fn: () => void, delayMs?: number) =>
    delayMs === undefined ? void setImmediate(fn) : void setTimeout(fn, delayMs).unref(),
  );

  /** Enqueues a copy in every queue bound to the topic; false when no queue is. */
  publish(message: TransportMessage): boolean {
    // Copied once: stored messages are never handed out (each delivery gets its own copy).
    const copy = cloneMessage(message);
    let routed = false;
    for (const queue of this.#queues.values()) {
      if (![...queue.bindings].some((pattern) => topicMatches(pattern, copy.topic))) continue;
      this.#enqueue(queue, { message: copy, attempt: 1, redelivered: false });
      routed = true;
    }
    return routed;
  }

  subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Subscription {
    const queue = this.#queue(spec.queue);
    for (const pattern of spec.topics) queue.bindings.add(pattern);
    const consumer: Consumer = { prefetch: spec.prefetch, onDelivery, unsettled: 0, running: new Set() };
    queue.consumers.push(consumer);
    this.#scheduleDispatch(queue);
    return {
      cancel: async () => {
        const index = queue.consumers.indexOf(consumer);
        if (index >= 0) queue.consumers.splice(index, 1);
        await Promise.all([...consumer.running]);
      },
    };
  }

  /** Moves up to `limit` dead letters of `queue` to its tail, attempts starting again at 1. */
  redrive(queue: string, limit: number): number {
    const dead = this.#queues.get(`${queue}.dlq`);
    if (!dead) return 0;
    const target = this.#queue(queue);
    const moved = dead.ready.splice(0, Math.max(0, limit));
    for (const { message } of moved) {
      this.#enqueue(target, {
        message: { ...message, headers: withoutDeadLetterHeaders(message.headers) },
        attempt: 1,
        redelivered: false,
      });
    }
    return moved.length;
  }

  /** Copies of the first `limit` dead letters waiting in `<queue>.dlq`, oldest first. */
  deadLetters(queue: string, limit: number): TransportMessage[] {
    const dead = this.#queues.get(`${queue}.dlq`)?.ready ?? [];
    return dead.slice(0, Math.max(0, limit)).map((entry) => cloneMessage(entry.message));
  }

  #queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = { name, ready: [], bindings: new Set(), consumers: [], turn: 0, dispatchScheduled: false };
      this.#queues.set(name, queue);
    }
    return queue;
  }

  #enqueue(queue: Queue, entry: Entry): void {
    queue.ready.push(entry);
    this.#scheduleDispatch(queue);
  }

  // Dispatch runs on a later turn of the event loop: a publisher never runs a consumer inside its own
  // call stack, and a handler that keeps failing (requeued at once) cannot starve timers and I/O.
  #scheduleDispatch(queue: Queue): void {
    if (queue.dispatchScheduled) return;
    queue.dispatchScheduled = true;
    this.#detached(() => {
      queue.dispatchScheduled = false;
      while (queue.ready.length > 0) {
        const consumer = this.#nextConsumer(queue);
        if (!consumer) return;
        this.#deliver(queue, consumer, queue.ready.shift()!);
      }
    });
  }

  /** The next consumer in round robin order with a free prefetch slot. */
  #nextConsumer(queue: Queue): Consumer | undefined {
    const { consumers } = queue;
    for (let i = 0; i < consumers.length; i++) {
      const index = (queue.turn + i) % consumers.length;
      const consumer = consumers[index]!;
      if (consumer.unsettled < consumer.prefetch) {
        queue.turn = (index + 1) % consumers.length;
        return consumer;
      }
    }
    return undefined;
  }

  #deliver(queue: Queue, consumer: Consumer, entry: Entry): void {
    const { message, attempt } = entry;
    consumer.unsettled++;
    let settled = false;
    const settle = (what: string, then: () => void): void => {
      if (settled) throw new Error(`delivery of message ${message.id} was already settled; cannot ${what}`);
      settled = true;
      consumer.unsettled--;
      then();
      this.#scheduleDispatch(queue);
    };
    const delivery: Delivery = {
      message: cloneMessage(message),
      attempt,
      redelivered: entry.redelivered,
      ack: async () => settle('ack', () => {}),
      retryLater: async (delayMs) => {
        if (!Number.isFinite(delayMs) || delayMs < 0)
          throw new RangeError(`retryLater: ${delayMs} is not a delay in ms`);
        settle('retry', () => {
          const retry = { message, attempt: attempt + 1, redelivered: false };
          // Unref'd: a pending retry never keeps the process alive (its queue dies with the process anyway).
          this.#detached(() => this.#enqueue(queue, retry), Math.min(delayMs, MAX_DELAY_MS));
        });
      },
      deadLetter: async (reason) =>
        settle('dead-letter', () => {
          const headers = deadLetterHeaders(message.headers, {
            reason,
            attempt,
            topic: message.topic,
            queue: queue.name,
          });
          const dead = { message: { ...message, headers }, attempt, redelivered: false };
          this.#enqueue(this.#queue(`${queue.name}.dlq`), dead);
        }),
    };
    const run = Promise.resolve()
      .then(() => consumer.onDelivery(delivery))
      // No logger here: a failure that left the delivery unsettled is a nack with requeue, just below.
      .catch(() => {})
      .then(() => {
        consumer.running.delete(run);
        // Ended unsettled (it threw, or resolved too early): back to the front of the queue, same
        // attempt, as RabbitMQ does with the unacked message of a consumer that went away.
        if (!settled) settle('requeue', () => queue.ready.unshift({ ...entry, redelivered: true }));
      });
    consumer.running.add(run);
  }
}

/**
 * The embedded default transport (no broker URL configured): the semantics of the RabbitMQ adapter
 * over an in-process broker. Closing it cancels its subscriptions but keeps the queues and their
 * messages, which other services of the process, or this one started again, still use.
 */
export class InProcessTransport implements Transport {
  readonly kind = 'in-process';
  readonly #broker: InProcessBroker;
  readonly #subscriptions = new Set<Subscription>();
  #started = false;
  #closing: Promise<void> | undefined;

  constructor(options: { broker?: InProcessBroker } = {}) {
    this.#broker = options.broker ?? InProcessBroker.shared;
  }

  async start(): Promise<void> {
    this.#assertOpen('start');
    this.#started = true;
  }

  async publish(message: TransportMessage): Promise<void> {
    this.#assertOpen('publish');
    if (!this.#broker.publish(message)) throw new UnroutableError(message.topic);
  }

  async subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    this.#assertOpen('subscribe');
    if (!spec.queue) throw new TypeError('subscribe: the queue name is empty');
    if (!Number.isInteger(spec.prefetch) || spec.prefetch < 1) {
      throw new RangeError(`subscribe: prefetch must be a positive integer, got ${spec.prefetch}`);
    }
    const subscription = this.#broker.subscribe(spec, onDelivery);
    this.#subscriptions.add(subscription);
    return {
      cancel: async () => {
        await subscription.cancel();
        this.#subscriptions.delete(subscription);
      },
    };
  }

  async redrive(queue: string, limit = Number.POSITIVE_INFINITY): Promise<number> {
    this.#assertOpen('redrive');
    return this.#broker.redrive(queue, limit);
  }

  /** Reads without removing, like the RabbitMQ adapter (whose default limit this shares). */
  async deadLetters(queue: string, limit = 100): Promise<TransportMessage[]> {
    return this.#broker.deadLetters(queue, limit);
  }

  async ping(): Promise<void> {
    if (this.#closing) throw new Error('the in-process transport is closed');
    if (!this.#started) throw new Error('the in-process transport is not started');
  }

  close(): Promise<void> {
    this.#closing ??= Promise.all([...this.#subscriptions].map((s) => s.cancel())).then(() => {
      this.#subscriptions.clear();
    });
    return this.#closing;
  }

  #assertOpen(operation: string): void {
    if (this.#closing) throw new Error(`cannot ${operation}: the in-process transport is closed`);
  }
}

function cloneMessage(message: TransportMessage): TransportMessage {
  return { ...message, headers: { ...message.headers }, body: Buffer.from(message.body) };
}
