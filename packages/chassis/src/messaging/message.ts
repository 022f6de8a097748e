import { randomUUID } from 'node:crypto';
import type { TransportMessage } from './transport-port.js';

/** What a producer hands over: `svc.messaging.publish` and `svc.outbox.enqueue` take this. */
export interface OutgoingMessage<T = unknown> {
  topic: string;
  /** Partition key: messages of one key are delivered in the order they were produced. */
  key?: string;
  payload: T;
  headers?: Record<string, string>;
}

/** What a handler receives. */
export interface IncomingMessage<T = unknown> {
  /** The message id; empty when the producer gave none (see the `withoutMessageId` consume option). */
  id: string;
  topic: string;
  key?: string;
  payload: T;
  headers: Readonly<Record<string, string>>;
  /** When the producer produced it. */
  timestamp: Date;
  /** The producing service. */
  source: string;
  /** 1 on the first delivery, counting delayed retries after failures. */
  attempt: number;
  /** True when the broker delivers it again after a connection loss. */
  redelivered: boolean;
}

export const JSON_CONTENT_TYPE = 'application/json';

/** A topic names a message type: words of letters, digits, `_` and `-`, separated by dots. */
const TOPIC = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function checkTopic(topic: string): void {
  if (!TOPIC.test(topic) || topic.length > 255)
    throw new TypeError(`invalid topic "${topic}": words of letters, digits, "_" or "-", separated by dots`);
}

/** The envelope of a new message, its payload as JSON. */
export function encodeMessage(
  message: OutgoingMessage,
  source: string,
  traceHeaders: Record<string, string>,
  id: string = randomUUID(),
  timestamp: number = Date.now(),
): TransportMessage {
  checkTopic(message.topic);
  const body = JSON.stringify(message.payload);
  if (body === undefined) throw new TypeError(`the payload of a "${message.topic}" message is not JSON`);
  return {
    id,
    topic: message.topic,
    ...(message.key !== undefined ? { key: String(message.key) } : {}),
    timestamp,
    source,
    contentType: JSON_CONTENT_TYPE,
    headers: { ...message.headers, ...traceHeaders },
    body: Buffer.from(body),
  };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The media type without its parameters, in lower case: `Application/JSON; charset=utf-8` → `application/json`. */
function mediaType(contentType: string): string {
  return (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
}

/**
 * Decodes the payload by its content type, one rule for every transport:
 * `application/json`, any `+json` type and no content type at all → parsed JSON; `text/*` → a
 * string (UTF-8); any other type → the raw bytes (a Buffer). Throws, so that the message is
 * dead-lettered at once, when the bytes are not what the rule expects: not JSON, or not UTF-8.
 * A missing content type counts as JSON because handlers are written for JSON payloads: bytes
 * that are not JSON must be sent with a content type that says what they are.
 */
export function decodePayload(message: TransportMessage): unknown {
  const type = mediaType(message.contentType);
  if (type === '' || type === JSON_CONTENT_TYPE || type.endsWith('+json'))
    return JSON.parse(UTF8.decode(message.body));
  if (type.startsWith('text/')) return UTF8.decode(message.body);
  return message.body;
}
