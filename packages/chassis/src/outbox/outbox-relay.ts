import type { Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import type { Database } from '../database/index.js';
import { type TransportMessage, UnroutableError } from '../messaging/index.js';
import { OUTBOX_CHANNEL, type OutboxRow, outboxStore } from './outbox-store.js';

export interface RelaySettings {
  batchSize: number;
  /** Batches in flight at once: one claims while another waits for its confirms. */
  concurrency: number;
  pollMs: number;
  drainMs: number;
  retentionMs: number;
  retry: { initialDelayMs: number; maxDelayMs: number };
}

export interface RelayMetrics {
  published: Counter<'topic'>;
  failed: Counter<'topic' | 'reason'>;
  latency: Histogram<'topic'>;
}

export interface RelayDependencies {
  db: Database;
  /** Publishes one message and resolves on the broker's confirm. */
  send(message: TransportMessage): Promise<void>;
  settings: RelaySettings;
  metrics: RelayMetrics;
  log: Logger;
}

const CLEANUP_INTERVAL_MS = 60_000;
const CLEANUP_BATCH = 5000;
const CLEANUP_MAX_BATCHES = 50;

/**
 * Publishes committed outbox rows. One batch is one transaction: claim, publish, wait for every
 * confirm, mark the confirmed rows sent, commit. A crash before the commit leaves the rows
 * unpublished for the next relay (at-least-once; consumers deduplicate by message id). Rows of one
 * key are published one after another, so a failure stops the key there and the later rows wait;
 * rows of different keys go out together. Woken by NOTIFY at every commit, polling as the fallback.
 */
export class OutboxRelay {
  readonly #deps: RelayDependencies;
  #running = false;
  #loops: Promise<void>[] = [];
  readonly #wakers = new Set<() => void>();
  #pending = false;
  #unlisten: (() => Promise<void>) | undefined;
  #lastCleanup = 0;

  constructor(deps: RelayDependencies) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      this.#unlisten = await this.#deps.db.listen(OUTBOX_CHANNEL, () => this.#notify());
    } catch (error) {
      this.#deps.log.warn({ err: error }, 'outbox relay cannot LISTEN: polling only');
    }
    this.#loops = Array.from({ length: Math.max(1, this.#deps.settings.concurrency) }, () => this.#run());
  }

  /** Stops waking up, finishes the batch in flight, then publishes what is left for `drainMs`. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#notify();
    await Promise.all(this.#loops);
    await this.#unlisten?.().catch(() => {});
    const until = Date.now() + this.#deps.settings.drainMs;
    try {
      while (Date.now() < until && (await this.runBatch()) > 0);
    } catch (error) {
      this.#deps.log.warn({ err: error }, 'outbox relay could not drain: the rows stay for the next start');
    }
  }

  /** Claims and publishes one batch; resolves to the number of rows claimed. */
  runBatch(): Promise<number> {
    const { db, settings } = this.#deps;
    return db.transaction(async (tx) => {
      const rows = await outboxStore.claim(tx, settings.batchSize);
      if (rows.length === 0) return 0;
      const { sent, failed } = await this.#publish(rows);
      await outboxStore.markPublished(tx, sent);
      for (const { row, error } of failed) {
        const delay = Math.min(
          settings.retry.maxDelayMs,
          settings.retry.initialDelayMs * 2 ** Math.min(row.attempts, 20),
        );
        await outboxStore.markFailed(tx, row.id, error.message, delay);
      }
      return rows.length;
    });
  }

  #notify(): void {
    this.#pending = true;
    for (const wake of this.#wakers) wake();
  }

  async #run(): Promise<void> {
    const { settings, log } = this.#deps;
    let failures = 0;
    while (this.#running) {
      this.#pending = false;
      let claimed = 0;
      try {
        claimed = await this.runBatch();
        failures = 0;
        await this.#cleanup();
      } catch (error) {
        failures++;
        log.warn({ err: error }, 'outbox relay batch failed');
      }
      if (!this.#running) break;
      if (claimed >= settings.batchSize || (this.#pending && failures === 0)) continue;
      const waitMs = failures > 0 ? Math.min(settings.pollMs * 2 ** failures, 30_000) : settings.pollMs;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, waitMs);
        this.#wakers.add(wake);
      });
    }
  }

  async #publish(rows: OutboxRow[]): Promise<{ sent: string[]; failed: { row: OutboxRow; error: Error }[] }> {
    const { send, metrics } = this.#deps;
    const sent: string[] = [];
    const failed: { row: OutboxRow; error: Error }[] = [];
    const publishOne = async (row: OutboxRow): Promise<boolean> => {
      const { topic } = row.message;
      try {
        await send(row.message);
        sent.push(row.id);
        metrics.published.inc({ topic });
        metrics.latency.observe({ topic }, Math.max(0, (Date.now() - row.createdAt.getTime()) / 1000));
        return true;
      } catch (error) {
        const reason = error instanceof UnroutableError ? 'unroutable' : 'error';
        metrics.failed.inc({ topic, reason });
        failed.push({ row, error: error as Error });
        return false;
      }
    };
    const chains = new Map<string, OutboxRow[]>();
    const unkeyed: OutboxRow[] = [];
    for (const row of rows) {
      const key = row.message.key;
      if (key === undefined) unkeyed.push(row);
      else {
        const chain = chains.get(key);
        if (chain) chain.push(row);
        else chains.set(key, [row]);
      }
    }
    await Promise.all([
      ...unkeyed.map(publishOne),
      ...[...chains.values()].map(async (chain) => {
        // In order, one confirm at a time; after a failure the rest of the key waits.
        for (const row of chain) if (!(await publishOne(row))) break;
      }),
    ]);
    if (failed.length > 0)
      this.#deps.log.warn(
        { failed: failed.length, first: failed[0]?.error.message },
        'outbox rows not published: retried later',
      );
    return { sent, failed };
  }

  async #cleanup(): Promise<void> {
    if (Date.now() - this.#lastCleanup < CLEANUP_INTERVAL_MS) return;
    this.#lastCleanup = Date.now();
    // Batches until a short one, so that cleanup keeps up with any publishing rate.
    for (let i = 0; i < CLEANUP_MAX_BATCHES; i++)
      if (
        (await outboxStore.deletePublished(this.#deps.db, this.#deps.settings.retentionMs, CLEANUP_BATCH)) <
        CLEANUP_BATCH
      )
        break;
  }
}
