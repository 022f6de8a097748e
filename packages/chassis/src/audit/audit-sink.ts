import type { Queryable } from '../database/index.js';
import type { AuditRecord } from './audit-entry.js';

/** What `svc.audit.verify()` found walking the hash chain. */
export interface AuditVerification {
  /** True when every chained row matches its hash and links to the row before it. */
  ok: boolean;
  /** Chained rows checked (up to and including a broken one). */
  checked: number;
  /** The newest chained row: keep its hash elsewhere to detect later rewrites of the whole chain. */
  head?: { id: string; hash: string };
  /** The first broken link: the row and what is wrong with it. */
  broken?: { id: string; reason: string };
}

/** Where audit records go: one adapter per file (database table, log lines). */
export interface AuditSink {
  /** Writes the record; in `tx` when given and the sink is transactional. */
  write(record: AuditRecord, tx?: Queryable): Promise<void>;
  /** Walks the hash chain; only sinks that keep one have it. */
  verify?(): Promise<AuditVerification>;
}
