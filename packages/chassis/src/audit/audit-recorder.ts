import type { Logger } from 'pino';
import type { Queryable } from '../database/index.js';
import { type AuditRecord, checkEntry, MAX_LENGTHS } from './audit-entry.js';
import type { AuditSink } from './audit-sink.js';
import type { RequestIdentity } from './request-scope.js';

/** The counters a recorder keeps (`audit_records_total{outcome}`, `audit_failures_total`). */
export interface AuditCounters {
  records: { inc(labels: { outcome: string }): void };
  failures: { inc(): void };
}

export interface AuditRecorderOptions {
  /** Where records go; none when `audit.enabled` is off. */
  sink: AuditSink | undefined;
  maxDetailsBytes: number;
  counters: AuditCounters;
  log: Pick<Logger, 'warn'>;
}

/**
 * Checks an entry, completes it with the time and the request's identity, writes it and counts it.
 * Every failure (a malformed entry, a write that fails) is counted and thrown to the caller, who
 * decides: inside a transaction, the change it describes rolls back with it.
 */
export class AuditRecorder {
  readonly #options: AuditRecorderOptions;
  #warnedDisabled = false;

  constructor(options: AuditRecorderOptions) {
    this.#options = options;
  }

  get enabled(): boolean {
    return this.#options.sink !== undefined;
  }

  get sink(): AuditSink | undefined {
    return this.#options.sink;
  }

  async record(entry: unknown, identity: RequestIdentity, tx?: Queryable): Promise<void> {
    const { sink, maxDetailsBytes, counters } = this.#options;
    let record: AuditRecord;
    try {
      if (tx !== undefined && (tx === null || typeof (tx as Partial<Queryable>).query !== 'function'))
        throw new TypeError(
          'The transaction given to audit.record needs a query(sql, params) method: a transaction of svc.db, or a pg client inside its transaction',
        );
      const checked = checkEntry(entry, maxDetailsBytes);
      record = {
        at: new Date(),
        subject: checked.subject ?? cleanSubject(identity.subject),
        action: checked.action,
        resource: checked.resource ?? null,
        outcome: checked.outcome,
        requestId: identity.requestId,
        traceId: identity.traceId,
        details: checked.details,
      };
    } catch (error) {
      counters.failures.inc();
      throw error;
    }
    // Entries are still checked while the audit log is off, so a mistake shows before it is switched on.
    if (!sink) {
      this.#warnDisabled();
      return;
    }
    try {
      await sink.write(record, tx);
    } catch (error) {
      counters.failures.inc();
      throw error;
    }
    counters.records.inc({ outcome: record.outcome });
  }

  #warnDisabled(): void {
    if (this.#warnedDisabled) return;
    this.#warnedDisabled = true;
    this.#options.log.warn('audit records are not written: audit.enabled is false');
  }
}

/** A principal's subject comes from a token, not from code: kept within bounds instead of refused. */
function cleanSubject(subject: string | null): string | null {
  if (subject === null) return null;
  return subject.slice(0, MAX_LENGTHS.subject).replace(/\p{Cc}/gu, '?');
}
