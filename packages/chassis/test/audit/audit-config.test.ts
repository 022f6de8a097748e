import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { waitUntil } from '../support/wait.js';
import { setPrincipal, startAudited } from './audit-helpers.js';

// The first use of the embedded database starts PGlite: seconds on a busy machine.
describe('audit log sink', { timeout: 60_000 }, () => {
  it('writes JSON lines with every field, marked audit: true, whatever log.level says', async () => {
    const { service, url, logs } = await startAudited({
      overrides: { audit: { enabled: true, sink: 'log' }, log: { level: 'error' } },
      setup(svc) {
        svc.http.addHook('onRequest', async (request) => setPrincipal(request, 'u1'));
        svc.http.delete(
          '/orders/:id',
          {
            config: {
              audit: {
                action: 'orders.delete',
                resource: (req) => `order:${(req.params as { id: string }).id}`,
              },
            },
          },
          async (_req, reply) => reply.code(204).send(),
        );
        svc.http.post('/orders', async (req) => {
          await svc.audit.record({ action: 'orders.create', resource: 'order:7', details: { total: 12.5 } });
          return { id: req.id };
        });
      },
    });
    try {
      expect(
        (await fetch(`${url}/orders`, { method: 'POST', headers: { 'x-request-id': 'log-1' } })).status,
      ).toBe(200);
      expect(
        (await fetch(`${url}/orders/9`, { method: 'DELETE', headers: { 'x-request-id': 'log-2' } })).status,
      ).toBe(204);
      await waitUntil('two audit lines', () => logs.entries().filter((e) => e.audit === true).length === 2);
      const [created, deleted] = logs.entries().filter((e) => e.audit === true);
      expect(created).toMatchObject({
        level: 'info',
        audit: true,
        subject: 'u1',
        action: 'orders.create',
        resource: 'order:7',
        outcome: 'success',
        requestId: 'log-1',
        details: { total: 12.5 },
        msg: 'audit orders.create: success',
      });
      expect(created?.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(new Date(created?.at as string).toISOString()).toBe(created?.at);
      expect(deleted).toMatchObject({
        subject: 'u1',
        action: 'orders.delete',
        resource: 'order:9',
        outcome: 'success',
        requestId: 'log-2',
        details: null,
      });
      // Nothing else reaches the log at level error.
      expect(logs.entries().filter((e) => e.audit !== true && e.level === 'info')).toEqual([]);
      // No table for a log sink.
      const { rows } = await service.db.query("select to_regclass('keelson_audit_log') as t");
      expect(rows[0]).toEqual({ t: null });
    } finally {
      await service.stop();
    }
  });

  it('refuses verify() and a hash chain, which need the database', async () => {
    const { service } = await startAudited({ overrides: { audit: { enabled: true, sink: 'log' } } });
    try {
      await expect(service.audit.verify()).rejects.toThrow(
        /needs audit.enabled=true and audit.sink=database/,
      );
    } finally {
      await service.stop();
    }
    await expect(
      startAudited({ overrides: { audit: { enabled: true, sink: 'log', hashChain: true } } }),
    ).rejects.toThrow('audit.hashChain needs audit.sink=database');
  });
});

describe('audit configuration', { timeout: 60_000 }, () => {
  it('is off by default: entries are checked, nothing is written, no table', async () => {
    const { service, logs } = await startAudited({});
    try {
      expect(service.audit.enabled).toBe(false);
      await service.audit.record({ action: 'orders.create' });
      await service.audit.record({ action: 'orders.create' });
      await expect(service.audit.record({ action: 42 } as never)).rejects.toThrow(
        /action must be a non-empty string/,
      );
      expect(logs.find('audit records are not written: audit.enabled is false')).toHaveLength(1);
      expect(await service.metrics.text()).not.toContain('audit_records_total');
      expect(service.db.opened).toBe(false);
      await expect(service.audit.verify()).rejects.toThrow(/needs audit.enabled=true/);
    } finally {
      await service.stop();
    }
  });

  it('is switched on by the environment alone', async () => {
    const { service } = await startAudited({ env: { AUDIT_ENABLED: 'true', AUDIT_HASH_CHAIN: 'true' } });
    try {
      expect(service.audit.enabled).toBe(true);
      await service.audit.record({ action: 'settings.change' });
      expect((await service.audit.verify()).checked).toBe(1);
    } finally {
      await service.stop();
    }
  });

  it('lists bad values as config violations before anything starts', async () => {
    const error = await startAudited({
      env: { AUDIT_ENABLED: 'maybe', AUDIT_SINK: 'kafka', AUDIT_RETENTION_DAYS: '-3' },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).violations.map((v) => v.key).sort()).toEqual([
      'audit.enabled',
      'audit.retentionDays',
      'audit.sink',
    ]);
  });

  it('deletes records older than audit.retentionDays once the database opens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keelson-audit-'));
    const db = { url: `pglite:${dir}` };
    try {
      const first = await startAudited({ overrides: { db, audit: { enabled: true, hashChain: true } } });
      try {
        for (const action of ['old.one', 'old.two', 'recent.one'])
          await first.service.audit.record({ action });
        // Records made long ago; only their time is rewritten, the chain is left as it was.
        await first.service.db.query(
          "update keelson_audit_log set at = now() - interval '40 days' where action like 'old.%'",
        );
      } finally {
        await first.service.stop();
      }
      const second = await startAudited({
        overrides: { db, audit: { enabled: true, hashChain: true, retentionDays: 30 } },
      });
      try {
        const actions = async () =>
          (
            await second.service.db.query<{ action: string }>(
              'select action from keelson_audit_log order by id',
            )
          ).rows;
        await waitUntil('the cleanup', async () => (await actions()).length === 1);
        expect(await actions()).toEqual([{ action: 'recent.one' }]);
        expect(second.logs.find('audit retention deleted 2 record(s) older than 30 days')).toHaveLength(1);
        // The oldest row kept anchors what remains of the chain.
        expect(await second.service.audit.verify()).toMatchObject({ ok: true, checked: 1 });
      } finally {
        await second.service.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
