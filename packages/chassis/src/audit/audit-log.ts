import type { Queryable } from '../database/index.js';
import type { AuditEntry } from './audit-entry.js';
import type { AuditRecorder } from './audit-recorder.js';
import type { AuditVerification } from './audit-sink.js';
import type { RequestScope } from './request-scope.js';

/**
 * `svc.audit`: who did what, to which resource, with what outcome. Records made while a request is
 * handled carry its request id, trace id and (unless given) its principal's subject.
 */
export class AuditLog {
  readonly #recorder: AuditRecorder;
  readonly #scope: RequestScope;

  constructor(recorder: AuditRecorder, scope: RequestScope) {
    this.#recorder = recorder;
    this.#scope = scope;
  }

  /** Whether records are written (`audit.enabled`); when off, `record` checks entries and drops them. */
  get enabled(): boolean {
    return this.#recorder.enabled;
  }

  /**
   * Records an entry. With `tx` (a transaction of `svc.db`, or a `pg` client inside its transaction on
   * the same database) the database sink writes the row in that transaction: it commits or rolls
   * back with the change it describes. Rejects with an {@link AuditEntryError} listing what is wrong
   * with a malformed entry, and with the database's error when the write fails.
   */
  record(entry: AuditEntry, tx?: Queryable): Promise<void> {
    return this.#recorder.record(entry, this.#scope.current(), tx);
  }

  /**
   * Walks the hash chain of the database sink, oldest row first, and reports the first broken link:
   * a row changed after it was written, or one deleted, inserted or moved.
   */
  async verify(): Promise<AuditVerification> {
    const sink = this.#recorder.sink;
    if (!sink?.verify) throw new Error('svc.audit.verify() needs audit.enabled=true and audit.sink=database');
    return sink.verify();
  }
}
