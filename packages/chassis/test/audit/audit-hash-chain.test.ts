import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditRowView, startAudited } from './audit-helpers.js';

type Started = Awaited<ReturnType<typeof startAudited>>;

// The first use of the embedded database starts PGlite: seconds on a busy machine.
describe('audit hash chain (PGlite)', { timeout: 60_000 }, () => {
  let started: Started;

  beforeAll(async () => {
    started = await startAudited({ overrides: { audit: { enabled: true, hashChain: true } } });
  });

  afterAll(async () => {
    await started?.service.stop();
  });

  const chain = async () =>
    (
      await started.service.db.query<AuditRowView>(
        'select id, prev_hash, hash from keelson_audit_log order by id',
      )
    ).rows;

  it('links every row to the one before it, and verifies', async () => {
    const { service } = started;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        service.audit.record({
          action: 'documents.sign',
          resource: `document:${i}`,
          subject: `user-${i % 3}`,
          outcome: i % 4 === 0 ? 'denied' : 'success',
          details: { page: i, nested: { z: 1, a: [true, null, 'é'] } },
        }),
      ),
    );
    await service.db.transaction(async (tx) => {
      await service.audit.record({ action: 'documents.archive', resource: 'document:0' }, tx);
    });

    const rows = await chain();
    expect(rows).toHaveLength(13);
    expect(rows[0]?.prev_hash).toBeNull();
    for (let i = 1; i < rows.length; i++) expect(rows[i]?.prev_hash).toBe(rows[i - 1]?.hash);
    const last = rows[rows.length - 1];
    expect(await service.audit.verify()).toEqual({
      ok: true,
      checked: 13,
      head: { id: last?.id, hash: last?.hash },
    });
  });

  it('reports a row changed by SQL as the first broken link', async () => {
    const { service } = started;
    const rows = await chain();
    const target = rows[4];
    await service.db.query("update keelson_audit_log set action = 'documents.forge' where id = $1", [
      target?.id,
    ]);
    const result = await service.audit.verify();
    expect(result).toMatchObject({ ok: false, checked: 5, broken: { id: target?.id } });
    expect(result.broken?.reason).toMatch(/fields do not match its hash/);
    await service.db.query("update keelson_audit_log set action = 'documents.sign' where id = $1", [
      target?.id,
    ]);
    expect((await service.audit.verify()).ok).toBe(true);
  });

  it('reports a deleted row, and a row whose details were rewritten', async () => {
    const { service } = started;
    const rows = await chain();
    await service.db.query('update keelson_audit_log set details = \'{"page": 99}\' where id = $1', [
      rows[2]?.id,
    ]);
    expect((await service.audit.verify()).broken).toMatchObject({ id: rows[2]?.id });
    await service.db.query('delete from keelson_audit_log where id = $1', [rows[2]?.id]);
    const afterDelete = await service.audit.verify();
    expect(afterDelete.broken?.id).toBe(rows[3]?.id);
    expect(afterDelete.broken?.reason).toMatch(/previous hash does not match/);
  });

  it('takes the oldest row kept as the anchor, as after a retention cleanup', async () => {
    const { service } = started;
    const rows = await chain();
    // Everything up to the deleted row goes, as the retention cleanup would delete it.
    await service.db.query('delete from keelson_audit_log where id <= $1', [rows[2]?.id]);
    expect(await service.audit.verify()).toMatchObject({ ok: true, checked: rows.length - 3 });
  });
});
