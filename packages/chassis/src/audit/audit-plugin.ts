import type { FastifyReply, FastifyRequest } from 'fastify';
import { definePlugin } from '../core/index.js';
import { AuditLog } from './audit-log.js';
import { type AuditCounters, AuditRecorder } from './audit-recorder.js';
import type { AuditSink } from './audit-sink.js';
import { AUDIT_MIGRATIONS } from './audit-table.js';
import { auditConfigSchema } from './config-schema.js';
import { DatabaseAuditSink } from './database-audit-sink.js';
import { LogAuditSink } from './log-audit-sink.js';
import { identityOf, RequestScope } from './request-scope.js';
import { type AuditRouteOptions, installRouteAudit, outcomeForStatus } from './route-audit.js';

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** The audit log: `ctx.audit.record({ action: 'orders.create', resource: 'order:42' }, tx)`. */
    audit: AuditLog;
  }
}

const RETENTION_INTERVAL_MS = 3600_000;
const UNCOUNTED: AuditCounters = { records: { inc() {} }, failures: { inc() {} } };

/**
 * The audit log, off unless `audit.enabled` is set: `svc.audit.record(entry, tx?)`, and a record
 * after the response of every route declared with `config.audit`. Records go to the
 * `keelson_audit_log` table (optionally hash-chained) or to JSON log lines.
 */
export const auditPlugin = definePlugin({
  name: 'audit',
  // tracing: its onRequest hook runs before this plugin's, so the request's trace id is known there.
  dependencies: ['http', 'tracing', 'metrics', 'database'],
  config: auditConfigSchema,
  register(ctx) {
    const settings = ctx.config.get('audit');
    const scope = new RequestScope();
    if (!settings.enabled) {
      const recorder = new AuditRecorder({
        sink: undefined,
        maxDetailsBytes: settings.maxDetailsBytes,
        counters: UNCOUNTED,
        log: ctx.log,
      });
      ctx.provide('audit', new AuditLog(recorder, scope));
      return;
    }
    if (settings.hashChain && settings.sink !== 'database')
      throw new Error('audit.hashChain needs audit.sink=database: the chain is kept in the audit table');
    if (settings.maxDetailsBytes < 2)
      throw new Error('audit.maxDetailsBytes must be at least 2, the size of an empty JSON object');

    const counters: AuditCounters = {
      records: ctx.metrics.counter({
        name: 'audit_records_total',
        help: 'Audit records written, by outcome (success, failure, denied). A record written in a transaction that then rolled back is counted too.',
        labelNames: ['outcome'],
      }),
      failures: ctx.metrics.counter({
        name: 'audit_failures_total',
        help: 'Audit records that could not be written: a malformed entry, or a sink that failed.',
      }),
    };
    let sink: AuditSink;
    let database: DatabaseAuditSink | undefined;
    if (settings.sink === 'database') {
      ctx.db.addMigrations('audit', AUDIT_MIGRATIONS);
      database = new DatabaseAuditSink(ctx.db, { hashChain: settings.hashChain });
      sink = database;
    } else {
      sink = new LogAuditSink(ctx.log);
    }
    const recorder = new AuditRecorder({
      sink,
      maxDetailsBytes: settings.maxDetailsBytes,
      counters,
      log: ctx.log,
    });
    ctx.provide('audit', new AuditLog(recorder, scope));
    scope.install(ctx.http);

    // Route records are written after the response, outside any transaction: a failure is logged
    // and counted, the client has its answer already.
    const pending = new Set<Promise<void>>();
    const recordAfterResponse = async (
      request: FastifyRequest,
      reply: FastifyReply,
      options: AuditRouteOptions,
    ): Promise<void> => {
      try {
        let resource: string | undefined;
        try {
          resource =
            typeof options.resource === 'function' ? options.resource(request, reply) : options.resource;
        } catch (error) {
          counters.failures.inc();
          throw error;
        }
        const entry = { action: options.action, outcome: outcomeForStatus(reply.statusCode) };
        await recorder.record(resource === undefined ? entry : { ...entry, resource }, identityOf(request));
      } catch (error) {
        ctx.log.error(
          { err: error, requestId: request.id, action: options.action },
          'audit record of %s could not be written',
          options.action,
        );
      }
    };
    installRouteAudit(ctx.http, (request, reply, options) => {
      const writing = recordAfterResponse(request, reply, options);
      pending.add(writing);
      void writing.finally(() => pending.delete(writing));
    });
    // Connections close in reverse plugin order: these writes finish before the database closes.
    ctx.onStop(
      async () => {
        await Promise.allSettled([...pending]);
      },
      { phase: 'connections' },
    );

    if (database && settings.retentionDays > 0) {
      const days = settings.retentionDays;
      const store = database;
      let timer: NodeJS.Timeout | undefined;
      let pruning: Promise<void> | undefined;
      const prune = () => {
        pruning ??= store
          .prune(days)
          .then(
            (deleted) => {
              if (deleted > 0)
                ctx.log.info(
                  { deleted, days },
                  'audit retention deleted %d record(s) older than %d days',
                  deleted,
                  days,
                );
            },
            (error: unknown) =>
              ctx.log.warn({ err: error }, 'audit retention cleanup failed: it runs again within an hour'),
          )
          .finally(() => {
            pruning = undefined;
          });
      };
      // Not at start: a database nobody used (the lazy embedded default) is not opened for a cleanup.
      ctx.db.onOpen(() => {
        prune();
        timer = setInterval(prune, RETENTION_INTERVAL_MS).unref();
      });
      ctx.onStop(
        async () => {
          clearInterval(timer);
          await pruning;
        },
        { phase: 'consumers' },
      );
    }
  },
});
