/** How an audited action ended: done, failed, or refused for lack of permission. */
export type AuditOutcome = 'success' | 'failure' | 'denied';

export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['success', 'failure', 'denied'];

/** What `svc.audit.record(entry)` takes: who did what to which resource, and how it ended. */
export interface AuditEntry {
  /** What was done, e.g. `orders.create`. */
  action: string;
  /** What it was done to, e.g. `order:42`. */
  resource?: string;
  /** `success` when omitted. */
  outcome?: AuditOutcome;
  /** Who did it; the current request's `principal.subject` when omitted. */
  subject?: string;
  /** Anything else worth keeping, as a JSON object (at most `audit.maxDetailsBytes` of JSON). */
  details?: object;
}

/** A record as the sinks write it: the entry, completed with the time and the request's identity. */
export interface AuditRecord {
  at: Date;
  subject: string | null;
  action: string;
  resource: string | null;
  outcome: AuditOutcome;
  requestId: string | null;
  traceId: string | null;
  /** The details as stored: the JSON form of what was given (dates as strings, undefined dropped). */
  details: Record<string, unknown> | null;
}

/** An entry `svc.audit.record` cannot write; the message lists every problem with it. */
export class AuditEntryError extends Error {
  override readonly name = 'AuditEntryError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid audit entry: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** Longest action, resource and subject, in characters: identifiers, not documents. */
export const MAX_LENGTHS = { action: 200, resource: 1000, subject: 500 } as const;

const ENTRY_FIELDS = new Set(['action', 'resource', 'outcome', 'subject', 'details']);
// Control characters would let a value forge lines in a log; PostgreSQL refuses NUL outright.
const CONTROL = /\p{Cc}/u;

/** The checked fields of an entry, with the details in their stored JSON form. */
export type CheckedEntry = Pick<AuditRecord, 'action' | 'outcome' | 'details'> & {
  resource: string | undefined;
  subject: string | undefined;
};

/** Checks an entry given at run time (types do not reach JavaScript callers) and normalises it. */
export function checkEntry(entry: unknown, maxDetailsBytes: number): CheckedEntry {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
    throw new AuditEntryError(['the entry must be an object such as { action: "orders.create" }']);
  const fields = entry as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(fields))
    if (!ENTRY_FIELDS.has(key))
      problems.push(`unknown field "${key}" (expected action, resource, outcome, subject, details)`);

  const text = (name: keyof typeof MAX_LENGTHS, required: boolean): string | undefined => {
    const value = fields[name];
    if (value === undefined) {
      if (required) problems.push(`${name} is required: a non-empty string`);
      return undefined;
    }
    if (typeof value !== 'string' || value.trim() === '') {
      problems.push(`${name} must be a non-empty string`);
      return undefined;
    }
    if (value.length > MAX_LENGTHS[name])
      problems.push(`${name} is ${value.length} characters long; at most ${MAX_LENGTHS[name]}`);
    else if (CONTROL.test(value)) problems.push(`${name} must not contain control characters`);
    return value;
  };
  const action = text('action', true);
  const resource = text('resource', false);
  const subject = text('subject', false);

  let outcome: AuditOutcome = 'success';
  if (fields.outcome !== undefined) {
    if (AUDIT_OUTCOMES.includes(fields.outcome as AuditOutcome)) outcome = fields.outcome as AuditOutcome;
    else problems.push(`outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`);
  }

  const details = checkDetails(fields.details, maxDetailsBytes, problems);
  if (problems.length > 0) throw new AuditEntryError(problems);
  return { action: action as string, resource, subject, outcome, details };
}

function checkDetails(value: unknown, maxBytes: number, problems: string[]): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push('details must be a JSON object');
    return null;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    problems.push(`details cannot be written as JSON (${(error as Error).message})`);
    return null;
  }
  // An object with its own toJSON (a Date, say) may turn into something that is not an object.
  if (json === undefined || !json.startsWith('{')) {
    problems.push('details must be a JSON object');
    return null;
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) {
    problems.push(`details are ${bytes} bytes of JSON; at most ${maxBytes} (audit.maxDetailsBytes)`);
    return null;
  }
  if (json.includes('\\u0000')) {
    problems.push('details must not contain NUL characters, which PostgreSQL cannot store');
    return null;
  }
  // What is stored and hashed is the JSON form, so a record reads back exactly as it was checked.
  return JSON.parse(json) as Record<string, unknown>;
}
