import type { Migration, Queryable } from '../database/index.js';
import type { TransportMessage } from '../messaging/index.js';

/** A claimed row, as the relay publishes it. */
export interface OutboxRow {
  id: string;
  message: TransportMessage;
  createdAt: Date;
  attempts: number;
}

export interface BacklogStats {
  pending: number;
  /** Age in seconds of the oldest unpublished row; 0 when there is none. */
  oldestAgeSeconds: number;
}

interface RowRecord {
  id: string;
  message_id: string;
  topic: string;
  key: string | null;
  body: string;
  content_type: string;
  headers: Record<string, string> | string;
  source: string;
  created_at: Date | string;
  attempts: number;
  /** Whether the row may be published now (not waiting for a retry). */
  due: boolean;
}

const COLUMNS =
  'id, message_id, topic, key, body, content_type, headers, source, created_at, attempts, available_at <= now() as due';

function toOutboxRow(row: RowRecord): OutboxRow {
  const createdAt = new Date(row.created_at);
  return {
    id: String(row.id),
    createdAt,
    attempts: row.attempts,
    message: {
      id: row.message_id,
      topic: row.topic,
      ...(row.key !== null ? { key: row.key } : {}),
      timestamp: createdAt.getTime(),
      source: row.source,
      contentType: row.content_type,
      headers:
        typeof row.headers === 'string' ? (JSON.parse(row.headers) as Record<string, string>) : row.headers,
      body: Buffer.from(row.body, 'utf8'),
    },
  };
}

/** Advisory-lock class of outbox keys: one number that no other lock of the chassis uses. */
const KEY_LOCK_CLASS = 1_801_941_867;
export const OUTBOX_CHANNEL = 'keelson_outbox';

export const OUTBOX_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'outbox',
    sql: `create table keelson_outbox (
      id bigserial primary key,
      message_id text not null unique,
      topic text not null,
      key text,
      body text not null,
      content_type text not null,
      headers jsonb not null default '{}',
      source text not null,
      created_at timestamptz not null default clock_timestamp(),
      available_at timestamptz not null default '-infinity',
      attempts integer not null default 0,
      last_error text,
      published_at timestamptz
    );
    create index keelson_outbox_pending on keelson_outbox (id) where published_at is null;
    create index keelson_outbox_pending_key on keelson_outbox (key, id) where published_at is null;
    create index keelson_outbox_published on keelson_outbox (published_at) where published_at is not null;
    -- One notification per inserting statement, delivered at commit: the relay wakes at once.
    create function keelson_outbox_notify() returns trigger language plpgsql as $$
      begin perform pg_notify('${OUTBOX_CHANNEL}', ''); return null; end $$;
    create trigger keelson_outbox_notify after insert on keelson_outbox
      for each statement execute function keelson_outbox_notify();`,
  },
];

/**
 * The outbox table, in plain SQL that PostgreSQL and PGlite share (so one store serves both). Relays
 * of several instances split the work: unkeyed rows through `FOR UPDATE SKIP LOCKED`, keyed rows
 * through a per-key advisory lock, so the rows of one key are never published out of order, across
 * instances too.
 */
export const outboxStore = {
  /** One statement for any number of messages; ids follow the order given. */
  async insert(tx: Queryable, messages: readonly TransportMessage[]): Promise<void> {
    const keys = [...new Set(messages.flatMap((m) => (m.key === undefined ? [] : [m.key])))];
    // Held until the producer's transaction ends: the relay cannot take a key while rows of it may
    // still commit, so a key's rows go out in the order they were written even when two transactions
    // commit the other way round. Only tried: a producer never waits for the relay.
    if (keys.length > 0)
      await tx.query(
        `select pg_try_advisory_xact_lock_shared(${KEY_LOCK_CLASS}, hashtext(k)) from unnest($1::text[]) as k`,
        [keys],
      );
    await tx.query(
      `insert into keelson_outbox (message_id, topic, key, body, content_type, headers, source, created_at)
       select m.id, m.topic, m.key, m.body, m.content_type, m.headers, m.source, clock_timestamp()
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[])
           with ordinality as m(id, topic, key, body, content_type, headers, source, n)
        order by m.n`,
      [
        messages.map((m) => m.id),
        messages.map((m) => m.topic),
        messages.map((m) => m.key ?? null),
        messages.map((m) => m.body.toString('utf8')),
        messages.map((m) => m.contentType),
        messages.map((m) => JSON.stringify(m.headers)),
        messages.map((m) => m.source),
      ],
    );
  },

  /**
   * Claims up to `limit` rows: unkeyed ones with `FOR UPDATE SKIP LOCKED`, and keyed ones per key.
   * A key is taken with its advisory lock (other relays skip it until this transaction ends), and
   * only then are its rows read, in a statement whose snapshot comes after the lock: every earlier
   * row of the key is either published or among them. A key's rows stop at the first one waiting
   * for a retry.
   */
  async claim(tx: Queryable, limit: number): Promise<OutboxRow[]> {
    const unkeyed = await tx.query<RowRecord>(
      `select ${COLUMNS} from keelson_outbox
        where key is null and published_at is null and available_at <= now()
        order by id limit $1
        for update skip locked`,
      [limit],
    );
    const keys = await tx.query<{ key: string }>(
      // The candidates are chosen before any lock is tried: a lock condition next to the LIMIT would
      // be tried on every pending key, holding thousands of locks for a batch of a few hundred.
      `select key from (
         select key, id from (
           select distinct on (key) key, id, available_at from keelson_outbox
            where key is not null and published_at is null
            order by key, id) heads
          where available_at <= now()
          order by id limit $1) candidates
        where pg_try_advisory_xact_lock(${KEY_LOCK_CLASS}, hashtext(key))`,
      [limit],
    );
    const keyed =
      keys.rows.length === 0
        ? { rows: [] as RowRecord[] }
        : await tx.query<RowRecord>(
            `select ${COLUMNS} from keelson_outbox
              where key = any($1::text[]) and published_at is null
              order by id limit $2
              for update`,
            [keys.rows.map((r) => r.key), limit],
          );
    const stopped = new Set<string>();
    const rows = [...unkeyed.rows];
    for (const row of keyed.rows) {
      const key = row.key as string;
      if (stopped.has(key)) continue;
      if (!row.due) stopped.add(key);
      else rows.push(row);
    }
    return rows.sort((a, b) => Number(a.id) - Number(b.id)).map(toOutboxRow);
  },

  async markPublished(tx: Queryable, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await tx.query('update keelson_outbox set published_at = now() where id = any($1::bigint[])', [ids]);
  },

  async markFailed(tx: Queryable, id: string, error: string, delayMs: number): Promise<void> {
    await tx.query(
      `update keelson_outbox
          set attempts = attempts + 1, last_error = $2,
              available_at = now() + make_interval(secs => $3::double precision / 1000)
        where id = $1::bigint`,
      [id, error.slice(0, 1000), delayMs],
    );
  },

  /** Deletes published rows older than the retention, a bounded batch at a time. */
  async deletePublished(db: Queryable, retentionMs: number, limit = 5000): Promise<number> {
    const { rowCount } = await db.query(
      `delete from keelson_outbox where id in (
         select id from keelson_outbox
          where published_at is not null
            and published_at < now() - make_interval(secs => $1::double precision / 1000)
          limit $2)`,
      [retentionMs, limit],
    );
    return rowCount;
  },

  async backlog(db: Queryable): Promise<BacklogStats> {
    const { rows } = await db.query<{ pending: string | number; oldest: number | string | null }>(
      `select count(*) as pending,
              extract(epoch from (clock_timestamp() - min(created_at))) as oldest
         from keelson_outbox where published_at is null`,
    );
    const row = rows[0];
    return { pending: Number(row?.pending ?? 0), oldestAgeSeconds: Number(row?.oldest ?? 0) };
  },
};
