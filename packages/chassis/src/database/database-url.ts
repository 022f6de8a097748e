/** Where `db.url` points: a PostgreSQL server, or PGlite in memory or in a directory. */
export type DatabaseTarget =
  | { kind: 'postgres'; connectionString: string }
  | { kind: 'pglite' /** Undefined: in memory, gone when the process ends. */; dataDir: string | undefined };

const POSTGRES = /^postgres(?:ql)?:\/\//i;
const PGLITE = 'pglite:';
const PGLITE_MEMORY = 'pglite:memory';

/**
 * Reads `db.url`. The error message never repeats the URL, because a PostgreSQL URL carries the
 * password.
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const text = url.trim();
  if (text === '' || text === PGLITE_MEMORY) return { kind: 'pglite', dataDir: undefined };
  if (POSTGRES.test(text)) return { kind: 'postgres', connectionString: text };
  if (text.startsWith(PGLITE)) {
    const dataDir = text.slice(PGLITE.length);
    if (dataDir.trim() === '') throw new Error('pglite: needs a directory, or "memory"');
    return { kind: 'pglite', dataDir };
  }
  throw new Error(
    'must be a postgres:// or postgresql:// URL, pglite:<directory>, pglite:memory, or empty (PGlite in memory)',
  );
}

/** The `format` of `db.url`: a bad value becomes a config violation naming the key. */
export function checkDatabaseUrl(value: unknown): void {
  if (typeof value !== 'string') throw new Error('must be a string');
  parseDatabaseUrl(value);
}

/**
 * Whether the URL names a database someone set up on purpose (a server, or a directory), rather than
 * the throw-away in-memory default: such a database is opened at start, so a wrong URL fails fast.
 */
export function isConfiguredDatabase(target: DatabaseTarget): boolean {
  return target.kind === 'postgres' || target.dataDir !== undefined;
}
