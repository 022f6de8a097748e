import { createHash } from 'node:crypto';
import type { AuditRecord } from './audit-entry.js';

/**
 * JSON with object keys sorted at every level: the same value always gives the same text, whatever
 * order its keys were written in or came back from a jsonb column in.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const members = Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The hash of a chained row: hex SHA-256 of the previous row's hash (empty for the first row) followed
 * by the canonical JSON of the row's fields. Changing any field, or the row's place in the chain,
 * changes it.
 */
export function recordHash(prevHash: string | null, record: AuditRecord): string {
  const fields = {
    at: record.at.toISOString(),
    subject: record.subject,
    action: record.action,
    resource: record.resource,
    outcome: record.outcome,
    request_id: record.requestId,
    trace_id: record.traceId,
    details: record.details,
  };
  return createHash('sha256')
    .update(prevHash ?? '')
    .update(canonicalJson(fields))
    .digest('hex');
}
