/** A message as a transport carries it: the envelope and the payload bytes. */
export interface TransportMessage {
  /** Unique per message; consumers deduplicate by it. */
  id: string;
  /** The message type, used as the routing key (`orders.created`). */
  topic: string;
  /** Partition key, when the producer gave one (messages of one key keep their order). */
  key?: string;
  /** Epoch ms when the message was produced. */
  timestamp: number;
  /** Name of the producing service. */
  source: string;
  /** Media type of the body (`application/json`); empty when the producer gave none. */
  contentType: string;
  /** W3C `traceparent` / `tracestate` / `baggage` and the producer's own headers. */
  headers: Record<string, string>;
  body: Buffer;
}

/** A queue of one consumer group and the topics routed to it. */
export interface SubscriptionSpec {
  /** Durable queue name, shared by the instances of a service (competing consumers). */
  queue: string;
  /** Binding patterns with topic-exchange semantics: `*` is one word, `#` zero or more. */
  topics: string[];
  /** Most deliveries in flight (unacknowledged) at once on this subscription. */
  prefetch: number;
}

/** Headers a dead-lettered message carries. */
export const DEAD_LETTER_HEADERS = {
  error: 'x-keelson-error',
  attempts: 'x-keelson-attempts',
  topic: 'x-keelson-original-topic',
  queue: 'x-keelson-original-queue',
  at: 'x-keelson-dead-lettered-at',
} as const;

const DEAD_LETTER_HEADER_NAMES = new Set<string>(Object.values(DEAD_LETTER_HEADERS));

/**
 * Headers a transport or the broker keeps for its own bookkeeping: the chassis's `x-keelson-*`
 * (attempt, key, publish number, ms timestamp), except the dead-letter reason headers, and
 * RabbitMQ's dead-lettering history (`x-death`, `x-first-death-*`, `x-last-death-*`), which the
 * delayed retries add. Handlers never see them.
 */
export function isInternalHeader(name: string): boolean {
  const lower = name.toLowerCase();
  if (DEAD_LETTER_HEADER_NAMES.has(lower)) return false;
  return (
    lower.startsWith('x-keelson-') ||
    lower === 'x-death' ||
    lower.startsWith('x-first-death-') ||
    lower.startsWith('x-last-death-')
  );
}

/** The headers a message carries into a dead-letter queue: its own and the reason it is there. */
export function deadLetterHeaders<H extends Record<string, unknown>>(
  headers: H,
  dead: { reason: string; attempt: number; topic: string; queue: string },
): H & Record<(typeof DEAD_LETTER_HEADERS)[keyof typeof DEAD_LETTER_HEADERS], string> {
  return {
    ...headers,
    [DEAD_LETTER_HEADERS.error]: dead.reason,
    [DEAD_LETTER_HEADERS.attempts]: String(dead.attempt),
    [DEAD_LETTER_HEADERS.topic]: dead.topic,
    [DEAD_LETTER_HEADERS.queue]: dead.queue,
    [DEAD_LETTER_HEADERS.at]: new Date().toISOString(),
  };
}

/** A redriven message's headers: without those `deadLetterHeaders` added. */
export function withoutDeadLetterHeaders<V>(headers: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !DEAD_LETTER_HEADER_NAMES.has(name)));
}

/** One delivery of a message to a subscription; exactly one of ack / retryLater / deadLetter ends it. */
export interface Delivery {
  message: TransportMessage;
  /** 1 on the first delivery, +1 for each `retryLater`. */
  attempt: number;
  /** True when the broker delivers it again after a connection loss before the ack. */
  redelivered: boolean;
  ack(): Promise<void>;
  /** Delivers the message to this queue again after `delayMs`, with attempt + 1 (not a hot requeue). */
  retryLater(delayMs: number): Promise<void>;
  /** Moves the message to the queue's dead-letter queue with the reason and attempts in its headers. */
  deadLetter(reason: string): Promise<void>;
}

export interface Subscription {
  /** Stops new deliveries and waits for the ones in flight to end. */
  cancel(): Promise<void>;
}

/**
 * A message broker: RabbitMQ (amqplib) in production, the in-process transport as the embedded
 * default, with the same semantics from the user's side. One adapter per file.
 */
export interface Transport {
  readonly kind: 'amqp' | 'in-process';
  start(): Promise<void>;
  /** Resolves once the broker took responsibility (publisher confirm); rejects when no queue is bound. */
  publish(message: TransportMessage): Promise<void>;
  subscribe(spec: SubscriptionSpec, onDelivery: (delivery: Delivery) => Promise<void>): Promise<Subscription>;
  /** Moves up to `limit` dead-lettered messages of `queue` back into it; resolves to how many moved. */
  redrive(queue: string, limit?: number): Promise<number>;
  /** Reads up to `limit` dead-lettered messages of `queue` without removing them (for tools). */
  deadLetters(queue: string, limit?: number): Promise<TransportMessage[]>;
  /** Throws when the broker cannot be reached: the transport's health indicator. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A publish no queue was bound for (`mandatory`): surfaced, never silently dropped. */
export class UnroutableError extends Error {
  override readonly name = 'UnroutableError';
  readonly code = 'EUNROUTABLE';
  constructor(readonly topic: string) {
    super(`no queue is bound for topic "${topic}": the message was returned by the broker`);
  }
}
