import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import pg from 'pg';
import type { ShopServiceName } from '../../src/shop-services.js';
import { type ServiceProcess, spawnShopScript, waitFor } from './service-process.js';

export interface RealServers {
  postgresUrl: string;
  amqpUrl: string;
  etcdUrl: string;
}

/** The queues the shop declares on RabbitMQ (`<service>.<topic>`), with their dead-letter queues. */
const SHOP_QUEUES = ['notifications.order.placed', 'orders.notification.sent'];

/**
 * The shop as three processes on real PostgreSQL (a database per service), RabbitMQ (an exchange of
 * its own) and etcd (a key prefix of its own), names unique to this run.
 */
export class RealShop {
  readonly run = `shop_${randomBytes(4).toString('hex')}`;
  /** The latest instance of each service. */
  readonly processes = new Map<ShopServiceName, ServiceProcess>();
  readonly #spawned: ServiceProcess[] = [];
  readonly #servers: RealServers;
  readonly #env: Record<string, string>;

  private constructor(servers: RealServers, env: Record<string, string>) {
    this.#servers = servers;
    this.#env = env;
  }

  /** Creates the databases, clears the shop's queues, and starts inventory, notifications, orders. */
  static async start(servers: RealServers, env: Record<string, string> = {}): Promise<RealShop> {
    const shop = new RealShop(servers, env);
    await shop.#admin(async (client) => {
      for (const name of ['orders', 'inventory', 'notifications'])
        await client.query(`create database ${shop.#database(name)}`);
    });
    // Queue names come from the service names: a run starts from empty queues.
    const connection = await amqp.connect(servers.amqpUrl);
    const channel = await connection.createChannel();
    for (const queue of SHOP_QUEUES) {
      await channel.deleteQueue(queue);
      await channel.deleteQueue(`${queue}.dlq`);
    }
    await connection.close();
    for (const name of ['inventory', 'notifications', 'orders'] as const) await shop.spawn(name);
    return shop;
  }

  /** The environment a service of this shop runs with. */
  env(name: ShopServiceName): Record<string, string> {
    const db = new URL(this.#servers.postgresUrl);
    db.pathname = `/${this.#database(name)}`;
    return {
      NODE_ENV: 'production',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      DB_URL: db.toString(),
      MESSAGING_URL: this.#servers.amqpUrl,
      MESSAGING_EXCHANGE: `${this.run}.events`,
      REGISTRY_BACKEND: 'etcd',
      REGISTRY_ETCD_ENDPOINTS: this.#servers.etcdUrl,
      REGISTRY_ETCD_PREFIX: `/${this.run}/services/`,
      ...this.#env,
    };
  }

  /** Starts (another) instance of a service and waits until it is ready and registered. */
  async spawn(name: ShopServiceName, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const service = await spawnShopScript('main.js', [name], { ...this.env(name), ...env });
    await waitFor(`${name} registered`, async () =>
      service.lines.some((l) => String(l.msg).startsWith('registered in the etcd registry')),
    );
    this.processes.set(name, service);
    this.#spawned.push(service);
    return service;
  }

  url(name: ShopServiceName): string {
    const service = this.processes.get(name);
    if (!service) throw new Error(`${name} is not running`);
    return service.url;
  }

  /** A query on one service's database, as an operator would run it with psql. */
  async query<R extends pg.QueryResultRow>(name: ShopServiceName, sql: string, params: unknown[] = []) {
    const db = new URL(this.#servers.postgresUrl);
    db.pathname = `/${this.#database(name)}`;
    const client = new pg.Client({ connectionString: db.toString() });
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** SIGTERMs every process, waits for them, and drops the databases. */
  async stop(): Promise<void> {
    await Promise.all(
      this.#spawned.map((p) => {
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
        return p.exit;
      }),
    );
    await this.#admin(async (client) => {
      for (const name of ['orders', 'inventory', 'notifications'])
        await client.query(`drop database if exists ${this.#database(name)} with (force)`);
    });
  }

  #database(name: string): string {
    return `${this.run}_${name}`;
  }

  async #admin(fn: (client: pg.Client) => Promise<void>): Promise<void> {
    const client = new pg.Client({ connectionString: this.#servers.postgresUrl });
    await client.connect();
    try {
      await fn(client);
    } finally {
      await client.end();
    }
  }
}
