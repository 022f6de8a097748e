import amqp, { type ChannelModel, type RecoveringChannelModel, type SocketOptions } from 'amqplib';
import type { Logger } from 'pino';

export interface AmqpConnectionOptions {
  url: string;
  heartbeatSeconds: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Names the connection in the broker's management view. */
  connectionName: string;
  log: Logger;
  /** Runs on every new connection before it counts as up: channels, topology, consumers. */
  onConnected(connection: ChannelModel): Promise<void>;
}

/**
 * One AMQP connection that comes back by itself, on amqplib's own recovery: when it drops (broker
 * restarted, network), it reconnects with exponential backoff and jitter (so a fleet of instances
 * does not reconnect in lockstep), and `onConnected` declares everything again.
 */
export class AmqpConnection {
  readonly #options: AmqpConnectionOptions;
  #recovering: RecoveringChannelModel | undefined;
  #current: ChannelModel | undefined;
  #closed = false;
  readonly #waiters = new Set<() => void>();

  constructor(options: AmqpConnectionOptions) {
    this.#options = options;
  }

  /** The connection while it is up. */
  get current(): ChannelModel | undefined {
    return this.#current;
  }

  /** Starts connecting; resolves at once; the first connection and every later one run `onConnected`. */
  async start(): Promise<void> {
    if (this.#recovering) return;
    const { url, heartbeatSeconds, initialDelayMs, maxDelayMs, connectionName, log } = this.#options;
    const target = new URL(url);
    if (!target.searchParams.has('heartbeat')) target.searchParams.set('heartbeat', String(heartbeatSeconds));
    this.#recovering = await amqp.connect(target.toString(), {
      clientProperties: { connection_name: connectionName },
      recovery: {
        initialDelay: initialDelayMs,
        maxDelay: maxDelayMs,
        jitter: 0.5,
        maxRetries: Number.POSITIVE_INFINITY,
        waitForConnect: false,
        setup: (model: ChannelModel) => this.#options.onConnected(model),
      },
    } as SocketOptions & { recovery: amqp.RecoveryOptions });
    this.#recovering.on('connect', (model: ChannelModel) => {
      this.#current = model;
      log.info('connected to the broker');
      for (const wake of this.#waiters) wake();
    });
    this.#recovering.on('disconnect', (error: Error) => {
      this.#current = undefined;
      if (!this.#closed) log.warn({ err: error }, 'broker connection lost: reconnecting');
    });
    this.#recovering.on('connect-failed', (error: Error) =>
      log.warn({ err: error }, 'cannot connect to the broker: retrying'),
    );
    this.#recovering.on('error', (error: Error) => log.warn({ err: error }, 'broker connection error'));
  }

  /** Resolves with the connection once it is up; rejects after `timeoutMs`. */
  async whenConnected(timeoutMs: number): Promise<ChannelModel> {
    if (this.#current) return this.#current;
    if (this.#closed) throw new Error('the broker connection is closed');
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(done);
        reject(new Error(`no connection to the broker within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(done);
    });
    if (!this.#current) throw new Error('the broker connection is closed');
    return this.#current;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#current = undefined;
    for (const wake of this.#waiters) wake();
    await this.#recovering?.close().catch(() => {});
  }
}
