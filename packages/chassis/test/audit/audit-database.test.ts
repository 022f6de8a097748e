import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryError } from '../../src/audit/index.js';
import { PROBLEM_CONTENT_TYPE } from '../../src/http/index.js';
import { waitUntil } from '../support/wait.js';
import { type AuditRowView, sample, setPrincipal, startAudited } from './audit-helpers.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

type Started = Awaited<ReturnType<typeof startAudited>>;

// The first use of the embedded database starts PGlite: seconds on a busy machine.
describe('audit log, database sink (PGlite)', { timeout: 60_000 }, () => {
  let started: Started;
  let declarationError: unknown;
  const rows = async (where = 'true', params: unknown[] = []) =>
    (
      await started.service.db.query<AuditRowView>(
        `select * from keelson_audit_log where ${where} order by id`,
        params,
      )
    ).rows;

  beforeAll(async () => {
    started = await startAudited({
      overrides: { audit: { enabled: true } },
      setup(svc) {
        svc.db.addMigrations('audit-test', [
          { version: 1, name: 'orders', sql: 'create table orders (id serial primary key, item text)' },
        ]);
        svc.http.addHook('onRequest', async (request) => {
          const subject = request.headers['x-test-subject'];
          if (typeof subject === 'string') setPrincipal(request, subject);
        });
        svc.http.post(
          '/orders',
          {
            config: {
              audit: { action: 'orders.create', resource: (req) => `order:${req.headers['x-order']}` },
            },
          },
          async (req, reply) => {
            const status = Number(req.headers['x-status'] ?? 201);
            if (status >= 500) throw new Error('database on fire');
            return reply.code(status).send({ ok: status < 400 });
          },
        );
        svc.http.post('/orders/tx', async (req, reply) => {
          const body = req.body as { item: string; fail?: boolean };
          try {
            const id = await svc.db.transaction(async (tx) => {
              const { rows } = await tx.query<{ id: number }>(
                'insert into orders (item) values ($1) returning id',
                [body.item],
              );
              const id = rows[0]?.id;
              await svc.audit.record(
                { action: 'orders.create', resource: `order:${id}`, details: { item: body.item } },
                tx,
              );
              if (body.fail) throw new Error('payment refused');
              return id;
            });
            return reply.code(201).send({ id });
          } catch {
            return reply.code(402).send({ refused: true });
          }
        });
        svc.http.post('/bad-entry', async () => {
          await svc.audit.record({ action: '' });
          return { ok: true };
        });
        svc.http.get(
          '/resource-throws',
          {
            config: {
              audit: {
                action: 'things.read',
                resource: () => {
                  throw new Error('no resource here');
                },
              },
            },
          },
          async () => ({ ok: true }),
        );
        try {
          svc.http.get('/no-action', { config: { audit: { resource: 'x' } as never } }, async () => ({}));
        } catch (error) {
          declarationError = error;
        }
      },
    });
  });

  afterAll(async () => {
    await started?.service.stop();
  });

  it('writes a record in a committed transaction and none in a rolled-back one', async () => {
    const { service } = started;
    await service.db.transaction(async (tx) => {
      await tx.query('insert into orders (item) values ($1)', ['kept']);
      await service.audit.record({ action: 'orders.import', resource: 'order:kept', subject: 'batch' }, tx);
    });
    await expect(
      service.db.transaction(async (tx) => {
        await tx.query('insert into orders (item) values ($1)', ['dropped']);
        await service.audit.record({ action: 'orders.import', resource: 'order:dropped' }, tx);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');

    const written = await rows("action = 'orders.import'");
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      subject: 'batch',
      resource: 'order:kept',
      outcome: 'success',
      request_id: null,
      details: null,
      hash: null,
    });
    expect(written[0]?.at).toBeInstanceOf(Date);
  });

  it('fills subject, request id and trace id from the request a handler records in', async () => {
    const { url } = started;
    const ok = await fetch(`${url}/orders/tx`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'req-tx-1',
        'x-test-subject': 'u1',
        traceparent: TRACEPARENT,
      },
      body: JSON.stringify({ item: 'anchor' }),
    });
    expect(ok.status).toBe(201);
    const refused = await fetch(`${url}/orders/tx`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-tx-2', 'x-test-subject': 'u1' },
      body: JSON.stringify({ item: 'chain', fail: true }),
    });
    expect(refused.status).toBe(402);

    const written = await rows('request_id in ($1, $2)', ['req-tx-1', 'req-tx-2']);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      subject: 'u1',
      action: 'orders.create',
      outcome: 'success',
      request_id: 'req-tx-1',
      trace_id: TRACE_ID,
      details: { item: 'anchor' },
    });
  });

  it('records routes declared with config.audit after the response, outcome from the status', async () => {
    const { url } = started;
    const call = (requestId: string, status: number, subject?: string) =>
      fetch(`${url}/orders`, {
        method: 'POST',
        headers: {
          'x-request-id': requestId,
          'x-status': String(status),
          'x-order': requestId,
          ...(subject ? { 'x-test-subject': subject } : {}),
        },
      });
    expect((await call('route-ok', 201, 'alice')).status).toBe(201);
    expect((await call('route-redirect', 303, 'alice')).status).toBe(303);
    expect((await call('route-denied', 403, 'mallory')).status).toBe(403);
    expect((await call('route-unauthenticated', 401)).status).toBe(401);
    expect((await call('route-conflict', 409, 'alice')).status).toBe(409);
    const crashed = await call('route-crash', 500, 'alice');
    expect(crashed.status).toBe(500);
    expect(crashed.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);

    const ids = [
      'route-ok',
      'route-redirect',
      'route-denied',
      'route-unauthenticated',
      'route-conflict',
      'route-crash',
    ];
    await waitUntil(
      'six route records',
      async () => (await rows('request_id = any($1)', [ids])).length === 6,
    );
    const byRequest = Object.fromEntries(
      (await rows('request_id = any($1)', [ids])).map((r) => [r.request_id, r]),
    );
    expect(byRequest['route-ok']).toMatchObject({
      action: 'orders.create',
      resource: 'order:route-ok',
      outcome: 'success',
      subject: 'alice',
    });
    expect(byRequest['route-ok']?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(byRequest['route-redirect']?.outcome).toBe('success');
    expect(byRequest['route-denied']).toMatchObject({ outcome: 'denied', subject: 'mallory' });
    expect(byRequest['route-unauthenticated']).toMatchObject({ outcome: 'denied', subject: null });
    expect(byRequest['route-conflict']?.outcome).toBe('failure');
    expect(byRequest['route-crash']?.outcome).toBe('failure');

    const metrics = await started.service.metrics.text();
    expect(sample(metrics, 'audit_records_total{outcome="denied"}')).toBeGreaterThanOrEqual(2);
    expect(sample(metrics, 'audit_records_total{outcome="failure"}')).toBeGreaterThanOrEqual(2);
  });

  it('refuses malformed entries with an error naming every problem', async () => {
    const { service } = started;
    const failuresBefore = sample(await service.metrics.text(), 'audit_failures_total');
    const missing = service.audit.record({} as never);
    await expect(missing).rejects.toBeInstanceOf(AuditEntryError);
    await expect(missing).rejects.toThrow('action is required: a non-empty string');

    const huge = { blob: 'x'.repeat(20_000) };
    await expect(service.audit.record({ action: 'files.upload', details: huge })).rejects.toThrow(
      /details are 2\d{4} bytes of JSON; at most 16384 \(audit\.maxDetailsBytes\)/,
    );
    const several = await service.audit
      .record({ action: 'x', outcome: 'maybe', acton: 'typo', details: [1] } as never)
      .then(
        () => undefined,
        (e: unknown) => e as AuditEntryError,
      );
    expect(several?.problems).toEqual([
      'unknown field "acton" (expected action, resource, outcome, subject, details)',
      'outcome must be one of success, failure, denied',
      'details must be a JSON object',
    ]);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(service.audit.record({ action: 'x', details: cyclic })).rejects.toThrow(
      /details cannot be written as JSON/,
    );
    await expect(service.audit.record({ action: 'x\nforged line' })).rejects.toThrow(
      'action must not contain control characters',
    );
    await expect(service.audit.record({ action: 'x' }, {} as never)).rejects.toThrow(
      /needs a query\(sql, params\) method/,
    );
    expect(sample(await service.metrics.text(), 'audit_failures_total')).toBe(failuresBefore + 6);
    expect(await rows("action in ('files.upload', 'x')")).toEqual([]);
  });

  it('answers a handler whose entry is malformed with a problem, and keeps serving', async () => {
    const { url, logs } = started;
    const response = await fetch(`${url}/bad-entry`, {
      method: 'POST',
      headers: { 'x-request-id': 'bad-1' },
    });
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(await response.json()).toMatchObject({ status: 500, requestId: 'bad-1' });
    const logged = logs.entries().find((e) => e.requestId === 'bad-1' && e.level === 'error');
    expect(JSON.stringify(logged)).toContain('action must be a non-empty string');
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
  });

  it('logs and counts a route record that cannot be made, without touching the response', async () => {
    const { url, logs, service } = started;
    const failuresBefore = sample(await service.metrics.text(), 'audit_failures_total');
    const response = await fetch(`${url}/resource-throws`, { headers: { 'x-request-id': 'throws-1' } });
    expect(response.status).toBe(200);
    await waitUntil('the failure to be logged', () =>
      logs.find('audit record of things.read could not be written').some((e) => e.requestId === 'throws-1'),
    );
    expect(sample(await service.metrics.text(), 'audit_failures_total')).toBe(failuresBefore + 1);
  });

  it('fails the declaration of a route whose config.audit has no action', async () => {
    expect(declarationError).toBeInstanceOf(TypeError);
    expect((declarationError as Error).message).toBe(
      'Route GET /no-action: config.audit needs an action: a non-empty string such as "orders.create"',
    );
    expect((await fetch(`${started.url}/no-action`)).status).toBe(404);
  });
});
