import type { Logger } from 'pino';
import type { AuditRecord } from './audit-entry.js';
import type { AuditSink } from './audit-sink.js';

/**
 * Records as JSON lines through the service logger, marked `audit: true` so a log pipeline can route
 * them to a store of their own. The child logger has its own level: an audit record is not a
 * diagnostic, and `log.level=warn` must not drop it. Lines are written at once, so a record given a
 * transaction stays in the log even when that transaction rolls back.
 */
export class LogAuditSink implements AuditSink {
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log.child({ audit: true }, { level: 'info' });
  }

  async write(record: AuditRecord): Promise<void> {
    // Field names as on the service's other lines (requestId, trace_id): one search finds them all.
    this.#log.info(
      {
        at: record.at.toISOString(),
        subject: record.subject,
        action: record.action,
        resource: record.resource,
        outcome: record.outcome,
        requestId: record.requestId,
        trace_id: record.traceId,
        details: record.details,
      },
      'audit %s: %s',
      record.action,
      record.outcome,
    );
  }
}
