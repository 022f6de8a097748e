import type { Database, Migration } from './database-port.js';

/**
 * Key of the advisory lock that serialises migrations across every instance and capability sharing
 * the database: the ASCII bytes of "keelson".
 */
const MIGRATION_LOCK_KEY = '30234610829963118';

const CREATE_TABLE = `create table if not exists keelson_schema_migrations (
  owner text not null,
  version integer not null,
  name text not null,
  applied_at timestamptz not null default now(),
  primary key (owner, version)
)`;

/**
 * Applies the migrations of `owner` (a capability such as the outbox, or the service) that the
 * database has not seen yet, in version order, and records each in `keelson_schema_migrations`.
 * Everything runs in one transaction that first takes a transaction-scoped advisory lock, so
 * instances starting together apply each migration exactly once and a failed migration leaves no
 * trace. Versions the database has but the list lacks (an older release running) are left alone.
 * Resolves to the migrations it applied.
 */
export async function runMigrations(
  db: Database,
  owner: string,
  migrations: readonly Migration[],
): Promise<Migration[]> {
  checkMigrations(owner, migrations);
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.query(CREATE_TABLE);
    const { rows } = await tx.query<{ version: number }>(
      'select version from keelson_schema_migrations where owner = $1',
      [owner],
    );
    const applied = new Set(rows.map((r) => Number(r.version)));
    const pending = ordered.filter((m) => !applied.has(m.version));
    for (const migration of pending) {
      try {
        await tx.query(migration.sql);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(
          `Migration ${migration.version} (${migration.name}) of "${owner}" failed: ${reason}`,
          { cause: error },
        );
      }
      await tx.query('insert into keelson_schema_migrations (owner, version, name) values ($1, $2, $3)', [
        owner,
        migration.version,
        migration.name,
      ]);
    }
    return pending;
  });
}

/** Throws on a list that cannot be applied safely: an owner without a name, a bad or repeated version. */
export function checkMigrations(owner: string, migrations: readonly Migration[]): void {
  if (typeof owner !== 'string' || owner.trim() === '') throw new TypeError('Migrations need an owner');
  const seen = new Set<number>();
  for (const migration of migrations) {
    const { version } = migration;
    if (!Number.isInteger(version) || version < 1 || version > 2_147_483_647)
      throw new TypeError(
        `Migration "${migration.name}" of "${owner}" has version ${version}: use a positive integer`,
      );
    if (seen.has(version)) throw new Error(`Migrations of "${owner}" have version ${version} twice`);
    if (typeof migration.sql !== 'string' || migration.sql.trim() === '')
      throw new TypeError(`Migration ${version} of "${owner}" has no SQL`);
    seen.add(version);
  }
}
