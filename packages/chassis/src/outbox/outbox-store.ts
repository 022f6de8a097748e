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
 * The outbox table, in plain SQL that PostgreSQL and PGlite share (so one store serves both). Rows
 * are claimed with `FOR UPDATE SKIP LOCKED` so relays of several instances split the work, and a
 * keyed row only when its key's advisory lock is free and no earlier row of the key waits for a
 * retry: the rows of one key are never published out of order, across instances too.
 */
export const outboxStore = {
  async insert(tx: Queryable, message: TransportMessage): Promise<void> {
    await tx.query(
      `insert into keelson_outbox (message_id, topic, key, body, content_type, headers, source, created_at)
       values ($1, $2, $3, $4, $5, $6::jsonb, $7, clock_timestamp())`,
      [
        message.id,
        message.topic,
        message.key ?? null,
        message.body.toString('utf8'),
        message.contentType,
        JSON.stringify(message.headers),
        message.source,
      ],
    );
  },

  async claim(tx: Queryable, limit: number): Promise<OutboxRow[]> {
    const { rows } = await tx.query<{
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
    }>(
      `select o.id, o.message_id, o.topic, o.key, o.body, o.content_type, o.headers, o.source,
              o.created_at, o.attempts
         from keelson_outbox o
        where o.published_at is null
          and o.available_at <= now()
          and (o.key is null or (
                not exists (select 1 from keelson_outbox e
                             where e.key = o.key and e.published_at is null
                               and e.id < o.id and e.available_at > now())
                and pg_try_advisory_xact_lock(${KEY_LOCK_CLASS}, hashtext(o.key))))
        order by o.id
        limit $1
        for update skip locked`,
      [limit],
    );
    return rows.map((row) => {
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
            typeof row.headers === 'string'
              ? (JSON.parse(row.headers) as Record<string, string>)
              : row.headers,
          body: Buffer.from(row.body, 'utf8'),
        },
      };
    });
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
