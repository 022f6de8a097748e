import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AuditRowView, startAudited } from './audit-helpers.js';

type Started = Awaited<ReturnType<typeof startAudited>>;

// A database of its own: the chain spans the whole table, so no other test may write to it.
const database = `keelson_audit_${randomBytes(5).toString('hex')}`;

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('postgresUrl') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

describe('audit log on PostgreSQL', () => {
  let started: Started;

  beforeAll(async () => {
    await admin((client) => client.query(`create database ${database}`));
    const url = new URL(inject('postgresUrl'));
    url.pathname = `/${database}`;
    started = await startAudited({
      overrides: { db: { url: url.toString(), pool: { max: 6 } }, audit: { enabled: true, hashChain: true } },
    });
  });

  afterAll(async () => {
    await started?.service.stop();
    await admin((client) => client.query(`drop database if exists ${database} with (force)`));
  });

  it('keeps one unforked chain under concurrent writers, inside transactions and outside', async () => {
    const { service } = started;
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        i % 2 === 0
          ? service.audit.record({ action: 'payments.capture', resource: `payment:${i}`, details: { i } })
          : service.db.transaction(async (tx) => {
              await service.audit.record({ action: 'payments.refund', resource: `payment:${i}` }, tx);
              // Holding the lock a little longer lets the other writers queue behind it.
              await tx.query('select pg_sleep(0.005)');
            }),
      ),
    );
    await expect(
      service.db.transaction(async (tx) => {
        await service.audit.record({ action: 'payments.void' }, tx);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');

    const { rows } = await service.db.query<AuditRowView>(
      'select id, action, prev_hash, hash from keelson_audit_log order by id',
    );
    expect(rows).toHaveLength(24);
    expect(rows.some((r) => r.action === 'payments.void')).toBe(false);
    expect(new Set(rows.map((r) => r.prev_hash)).size).toBe(24);
    const verification = await service.audit.verify();
    expect(verification).toMatchObject({ ok: true, checked: 24, head: { id: rows[23]?.id } });
  });

  it('refuses to chain inside a REPEATABLE READ transaction, whose snapshot may miss the newest row', async () => {
    const { service } = started;
    await expect(
      service.db.transaction(async (tx) => {
        await tx.query('set transaction isolation level repeatable read');
        await service.audit.record({ action: 'payments.capture' }, tx);
      }),
    ).rejects.toThrow(
      "The audit hash chain needs a READ COMMITTED transaction (PostgreSQL's default); this one is REPEATABLE READ",
    );
  });

  it('detects a row changed by SQL', async () => {
    const { service } = started;
    const { rows } = await service.db.query<{ id: string }>('select id from keelson_audit_log order by id');
    await service.db.query("update keelson_audit_log set subject = 'someone-else' where id = $1", [
      rows[10]?.id,
    ]);
    expect(await service.audit.verify()).toMatchObject({
      ok: false,
      checked: 11,
      broken: { id: rows[10]?.id },
    });
  });
});
