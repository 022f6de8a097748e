import { setTimeout as delay } from 'node:timers/promises';
import amqp from 'amqplib';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';

// The local infrastructure (scripts/infra.mjs, started by the global setup) that integration tests rely
// on: each server must answer its real protocol, not merely accept TCP connections.
describe('local infrastructure', () => {
  it('PostgreSQL runs a query', async () => {
    const client = new pg.Client({ connectionString: inject('postgresUrl') });
    await client.connect();
    try {
      const { rows } = await client.query<{ one: number; db: string }>(
        'select 1 as one, current_database() as db',
      );
      expect(rows).toEqual([{ one: 1, db: 'keelson' }]);
    } finally {
      await client.end();
    }
  });

  it('RabbitMQ confirms a publish and hands the message back', async () => {
    const connection = await amqp.connect(inject('amqpUrl'));
    try {
      const channel = await connection.createConfirmChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      channel.sendToQueue(queue, Buffer.from('ping'), { messageId: 'm-1' });
      await channel.waitForConfirms();

      let message: amqp.GetMessage | false = false;
      for (let attempt = 0; attempt < 50 && !message; attempt++) {
        message = await channel.get(queue, { noAck: true });
        if (!message) await delay(20);
      }
      expect(message).not.toBe(false);
      if (message) {
        expect(message.content.toString()).toBe('ping');
        expect(message.properties.messageId).toBe('m-1');
      }
      await channel.close();
    } finally {
      await connection.close();
    }
  });

  it('etcd stores and returns a key through its v3 JSON gateway', async () => {
    const base = inject('etcdUrl');
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    // The registry's outage test restarts etcd; a call made meanwhile waits for it (bounded).
    const call = async (endpoint: string, body: object) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fetch(`${base}/v3/kv/${endpoint}`, { method: 'POST', body: JSON.stringify(body) });
        } catch (error) {
          if (attempt >= 60) throw error;
          await delay(250);
        }
      }
    };
    const key = b64(`keelson-test/infra/${process.pid}`);

    const put = await call('put', { key, value: b64('v1') });
    expect(put.status).toBe(200);
    const range = await call('range', { key });
    expect(range.status).toBe(200);
    const { kvs } = (await range.json()) as { kvs?: { value: string }[] };
    expect(kvs?.map((kv) => Buffer.from(kv.value, 'base64').toString())).toEqual(['v1']);
    await call('deleterange', { key });
  });
});
