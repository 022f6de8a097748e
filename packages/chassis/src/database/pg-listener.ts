import pg from 'pg';
import { quoteIdentifier } from './channel-name.js';
import type { DatabaseLog } from './database-log.js';

export interface PgListenerOptions {
  /** How to connect; the listener opens a connection of its own, outside the pool. */
  connection: pg.ClientConfig;
  channel: string;
  onNotify: (payload: string) => void;
  log: DatabaseLog;
  /** First delay in ms before reconnecting; later delays double, with jitter. */
  initialDelayMs?: number;
  /** Longest delay in ms between two reconnection attempts. */
  maxDelayMs?: number;
}

/**
 * LISTEN on one channel, on a dedicated connection that outlives the server's restarts: when the
 * connection drops (PostgreSQL restarted, backend terminated, network cut) it connects again with
 * backoff, LISTENs again and then calls `onNotify('')` once, because notifications sent while it was
 * away are lost for good and the caller has to re-check what it may have missed.
 */
export class PgListener {
  readonly #options: PgListenerOptions;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  #delayMs: number;
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: PgListenerOptions) {
    this.#options = options;
    this.#initialDelayMs = options.initialDelayMs ?? 250;
    this.#maxDelayMs = options.maxDelayMs ?? 10_000;
    this.#delayMs = this.#initialDelayMs;
  }

  /** Connects and LISTENs; rejects when the first attempt fails (no retries until it once worked). */
  async start(): Promise<void> {
    this.#client = await this.#track(this.#connect());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    // A connection being made right now is ended as well, so none is left behind.
    const connecting = await this.#connecting?.catch(() => undefined);
    await Promise.all([client, connecting].map((c) => c?.end().catch(() => undefined)));
  }

  #track(connecting: Promise<pg.Client>): Promise<pg.Client> {
    this.#connecting = connecting;
    return connecting.finally(() => {
      if (this.#connecting === connecting) this.#connecting = undefined;
    });
  }

  async #connect(): Promise<pg.Client> {
    const { channel, connection, log } = this.#options;
    const client = new pg.Client(connection);
    // Errors while connecting reject the promise below; only an established connection reconnects.
    let phase: 'connecting' | 'listening' | 'lost' = 'connecting';
    const lost = (error?: Error) => {
      if (phase !== 'listening') return;
      phase = 'lost';
      if (this.#client === client) this.#client = undefined;
      client.end().catch(() => undefined);
      if (this.#stopped) return;
      log.warn({ err: error, channel }, 'database listener lost its connection: reconnecting');
      this.#scheduleReconnect();
    };
    // Without an 'error' listener, a dropped connection would crash the process.
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => {
      if (message.channel === channel) this.#deliver(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(channel)}`);
    } catch (error) {
      phase = 'lost';
      await client.end().catch(() => undefined);
      throw error;
    }
    phase = 'listening';
    return client;
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#timer) return;
    // Jitter keeps the listeners of many instances from reconnecting in lockstep after a restart.
    const wait = this.#delayMs * (0.5 + Math.random() / 2);
    this.#delayMs = Math.min(this.#delayMs * 2, this.#maxDelayMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#reconnect();
    }, wait);
  }

  async #reconnect(): Promise<void> {
    const { channel, log } = this.#options;
    if (this.#stopped) return;
    let client: pg.Client;
    try {
      client = await this.#track(this.#connect());
    } catch (error) {
      log.warn({ err: error, channel }, 'database listener could not reconnect: trying again');
      this.#scheduleReconnect();
      return;
    }
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#delayMs = this.#initialDelayMs;
    log.info({ channel }, 'database listener reconnected');
    this.#deliver('');
  }

  #deliver(payload: string): void {
    try {
      this.#options.onNotify(payload);
    } catch (error) {
      this.#options.log.error(
        { err: error, channel: this.#options.channel },
        'database listener callback threw',
      );
    }
  }
}
