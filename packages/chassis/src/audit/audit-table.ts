import type { Migration } from '../database/index.js';

export const AUDIT_TABLE = 'keelson_audit_log';

export const AUDIT_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'audit log',
    sql: `create table ${AUDIT_TABLE} (
      id bigserial primary key,
      at timestamptz not null,
      subject text,
      action text not null,
      resource text,
      outcome text not null check (outcome in ('success', 'failure', 'denied')),
      request_id text,
      trace_id text,
      details jsonb,
      prev_hash text,
      hash text
    );
    create index ${AUDIT_TABLE}_at on ${AUDIT_TABLE} (at);
    create index ${AUDIT_TABLE}_subject on ${AUDIT_TABLE} (subject, at);
    create index ${AUDIT_TABLE}_resource on ${AUDIT_TABLE} (resource, at);`,
  },
];

/** A row as both adapters return it: bigint ids as strings, timestamps as dates, jsonb parsed. */
export interface AuditRow {
  id: string;
  at: Date | string;
  subject: string | null;
  action: string;
  resource: string | null;
  outcome: string;
  request_id: string | null;
  trace_id: string | null;
  details: Record<string, unknown> | string | null;
  prev_hash: string | null;
  hash: string | null;
}
