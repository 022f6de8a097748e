import type { Queryable, Transaction } from '../database/index.js';
import type { AuditOutcome, AuditRecord } from './audit-entry.js';
import type { AuditSink, AuditVerification } from './audit-sink.js';
import { AUDIT_TABLE, type AuditRow } from './audit-table.js';
import { recordHash } from './hash-chain.js';

/** Key of the advisory lock that serialises chained writers: the ASCII bytes of "kaudit". */
const CHAIN_LOCK_KEY = '118066325514612';
const VERIFY_BATCH = 500;
const PRUNE_BATCH = 5000;

const INSERT = `insert into ${AUDIT_TABLE}
  (at, subject, action, resource, outcome, request_id, trace_id, details, prev_hash, hash)
  values ($1::timestamptz, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)`;

/** What the sink needs of `svc.db`: statements, and transactions for chained writes of their own. */
export interface AuditDatabase extends Queryable {
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
}

/**
 * Records as rows of `keelson_audit_log`, in the caller's transaction when one is given (so they
 * roll back with the change they describe). With the hash chain, each write takes a
 * transaction-scoped advisory lock before reading the newest hash: concurrent writers, in this
 * instance or another, queue up, and the chain follows commit order without forks.
 */
export class DatabaseAuditSink implements AuditSink {
  readonly #db: AuditDatabase;
  readonly #hashChain: boolean;

  constructor(db: AuditDatabase, options: { hashChain: boolean }) {
    this.#db = db;
    this.#hashChain = options.hashChain;
  }

  async write(record: AuditRecord, tx?: Queryable): Promise<void> {
    // The database itself given as the transaction means: no transaction of the caller's.
    const target = tx === this.#db ? undefined : tx;
    if (!this.#hashChain) {
      await (target ?? this.#db).query(INSERT, insertParams(record, null, null));
      return;
    }
    if (target) await writeChained(target, record);
    else await this.#db.transaction((own) => writeChained(own, record));
  }

  async verify(): Promise<AuditVerification> {
    if (!this.#hashChain)
      throw new Error('svc.audit.verify() needs audit.hashChain=true: without it, rows carry no hashes');
    let after = '0';
    let prev: string | undefined;
    let checked = 0;
    let head: { id: string; hash: string } | undefined;
    for (;;) {
      // Rows without both hashes were written while the chain was off: they are not part of it.
      const { rows } = await this.#db.query<AuditRow>(
        `select id, at, subject, action, resource, outcome, request_id, trace_id, details, prev_hash, hash
           from ${AUDIT_TABLE}
          where id > $1 and (hash is not null or prev_hash is not null)
          order by id limit ${VERIFY_BATCH}`,
        [after],
      );
      for (const row of rows) {
        checked++;
        const reason = brokenLink(row, prev);
        if (reason) return { ok: false, checked, broken: { id: String(row.id), reason } };
        prev = row.hash as string;
        head = { id: String(row.id), hash: prev };
      }
      if (rows.length < VERIFY_BATCH) return { ok: true, checked, ...(head ? { head } : {}) };
      after = String(rows[rows.length - 1]?.id);
    }
  }

  /**
   * Deletes records older than `days`, oldest first and in batches. Only a prefix of the ids goes,
   * so what remains of a hash chain still verifies (its first row's link is taken as the anchor).
   */
  async prune(days: number): Promise<number> {
    const { rows } = await this.#db.query<{ last: string | null }>(
      `select max(id) as last from ${AUDIT_TABLE} where at < now() - make_interval(days => $1)`,
      [days],
    );
    const last = rows[0]?.last;
    if (last === null || last === undefined) return 0;
    let deleted = 0;
    for (;;) {
      const { rowCount } = await this.#db.query(
        `delete from ${AUDIT_TABLE} where id in
           (select id from ${AUDIT_TABLE} where id <= $1 order by id limit ${PRUNE_BATCH})`,
        [last],
      );
      deleted += rowCount;
      if (rowCount < PRUNE_BATCH) return deleted;
    }
  }
}

async function writeChained(tx: Queryable, record: AuditRecord): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(${CHAIN_LOCK_KEY})`);
  // A statement of its own, after the lock: under READ COMMITTED it sees the row the previous
  // holder of the lock committed.
  const { rows } = await tx.query<{ isolation: string; prev: string | null }>(
    `select current_setting('transaction_isolation') as isolation,
            (select hash from ${AUDIT_TABLE} where hash is not null order by id desc limit 1) as prev`,
  );
  const isolation = rows[0]?.isolation ?? 'read committed';
  // A stricter transaction reads an older snapshot, so it could miss the newest row and fork the chain.
  if (isolation !== 'read committed')
    throw new Error(
      `The audit hash chain needs a READ COMMITTED transaction (PostgreSQL's default); this one is ${isolation.toUpperCase()}`,
    );
  const prev = rows[0]?.prev ?? null;
  await tx.query(INSERT, insertParams(record, prev, recordHash(prev, record)));
}

function insertParams(record: AuditRecord, prevHash: string | null, hash: string | null): unknown[] {
  return [
    record.at.toISOString(),
    record.subject,
    record.action,
    record.resource,
    record.outcome,
    record.requestId,
    record.traceId,
    record.details === null ? null : JSON.stringify(record.details),
    prevHash,
    hash,
  ];
}

/** Why a chained row does not hold, or undefined when it does. `prev` is the hash of the row before. */
function brokenLink(row: AuditRow, prev: string | undefined): string | undefined {
  if (row.hash === null) return 'the row has a previous hash but no hash of its own';
  // The oldest row kept links to one that retention deleted (or to none): it is the anchor.
  if (prev !== undefined && row.prev_hash !== prev)
    return 'its previous hash does not match the row before it: a row was deleted, inserted or reordered';
  if (recordHash(row.prev_hash, toRecord(row)) !== row.hash)
    return 'its fields do not match its hash: the row was changed after it was written';
  return undefined;
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    at: new Date(row.at),
    subject: row.subject,
    action: row.action,
    resource: row.resource,
    outcome: row.outcome as AuditOutcome,
    requestId: row.request_id,
    traceId: row.trace_id,
    details:
      typeof row.details === 'string' ? (JSON.parse(row.details) as Record<string, unknown>) : row.details,
  };
}
