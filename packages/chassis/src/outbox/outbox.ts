import type { Queryable } from '../database/index.js';
import type { OutgoingMessage, TransportMessage } from '../messaging/index.js';
import { outboxStore } from './outbox-store.js';

export interface OutboxDependencies {
  /** Builds the envelope (id, source, trace headers of the current context). */
  encode(message: OutgoingMessage): TransportMessage;
}

/** `svc.outbox`: messages written in the caller's transaction, published by the relay after commit. */
export class Outbox {
  readonly #deps: OutboxDependencies;

  constructor(deps: OutboxDependencies) {
    this.#deps = deps;
  }

  /**
   * Writes the message into the outbox table in `tx`: a transaction of `svc.db`, or a `pg` client
   * of your own inside its transaction (it must use the database `svc.db` points at). Nothing is
   * published if the transaction rolls back. Resolves to the message id.
   */
  async enqueue<T>(tx: Queryable, message: OutgoingMessage<T>): Promise<string> {
    const [id] = await this.enqueueAll(tx, [message]);
    return id as string;
  }

  /** Like `enqueue`, for many messages in one statement; resolves to their ids, in order. */
  async enqueueAll<T>(tx: Queryable, messages: readonly OutgoingMessage<T>[]): Promise<string[]> {
    if (messages.length === 0) return [];
    const encoded = messages.map((m) => this.#deps.encode(m));
    await outboxStore.insert(tx, encoded);
    return encoded.map((m) => m.id);
  }
}
