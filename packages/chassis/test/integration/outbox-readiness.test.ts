import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Service } from '../../src/index.js';
import { startTestService } from '../../src/testing/index.js';
import { unique } from '../support/messaging-behaviour.js';
import { waitFor } from '../support/wait.js';

/** A loopback TCP proxy to the real broker that a test can cut and restore: a broker outage. */
class BrokerLink {
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  constructor(private readonly target: URL) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(this.target.port), this.target.hostname);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  cut(): void {
    this.#server?.close();
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
  }
}

const running: Pick<Service, 'stop'>[] = [];
const links: BrokerLink[] = [];
afterEach(async () => {
  for (const link of links.splice(0)) link.cut();
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function serviceBehindLink(env: Record<string, string>) {
  const amqpUrl = new URL(inject('amqpUrl'));
  const link = new BrokerLink(amqpUrl);
  links.push(link);
  await link.open();
  const viaLink = new URL(amqpUrl);
  viaLink.port = String(link.port);
  const topic = unique('orders.placed');
  const received: unknown[] = [];
  const started = await startTestService({
    name: unique('orders'),
    env,
    overrides: { db: { url: inject('postgresUrl') }, messaging: { url: viaLink.toString() } },
    setup(svc) {
      svc.messaging.consume(topic, (message) => void received.push(message.payload));
      svc.http.post('/orders', async () => {
        await svc.db.transaction((tx) =>
          svc.outbox.enqueue(tx, { topic, key: 'o-1', payload: { id: 'o-1' } }),
        );
        return { ok: true };
      });
    },
  });
  running.push(started.service);
  const readiness = async () => {
    const response = await fetch(`${started.url}/health/ready`);
    const body = (await response.json()) as { status: string; checks: Record<string, { status: string }[]> };
    return { code: response.status, status: body.status, broker: body.checks['messaging:amqp']?.[0]?.status };
  };
  return { ...started, link, readiness, received };
}

describe('readiness during a broker outage (real RabbitMQ behind a loopback link that is cut)', () => {
  it('with the outbox in use: a warning, requests still succeed, and the message is delivered later', async () => {
    const svc = await serviceBehindLink({});
    // The broker connection is made in the background after READY.
    await waitFor('connected', svc.readiness, (r) => r.broker === 'pass', 10_000);
    svc.link.cut();
    const during = await waitFor('the broker seen down', svc.readiness, (r) => r.broker === 'fail', 10_000);
    expect(during.value).toEqual({ code: 200, status: 'warn', broker: 'fail' });
    expect((await fetch(`${svc.url}/orders`, { method: 'POST' })).status).toBe(200);
    await svc.link.open();
    await waitFor(
      'delivered after the outage',
      async () => svc.received.length,
      (n) => n === 1,
      30_000,
    );
    expect(svc.received).toEqual([{ id: 'o-1' }]);
    await waitFor('ready again', svc.readiness, (r) => r.status === 'pass', 10_000);
  }, 60_000);

  it('without the outbox relay: not ready while the broker is down', async () => {
    const svc = await serviceBehindLink({ OUTBOX_RELAY_ENABLED: 'false' });
    await waitFor('connected', svc.readiness, (r) => r.broker === 'pass', 10_000);
    svc.link.cut();
    const during = await waitFor('the broker seen down', svc.readiness, (r) => r.broker === 'fail', 10_000);
    expect(during.value).toEqual({ code: 503, status: 'fail', broker: 'fail' });
  }, 30_000);
});
