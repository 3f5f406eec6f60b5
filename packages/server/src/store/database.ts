/**
 * Opens the database named by DATABASE_URL with the matching Kysely dialect. Everything above
 * this file runs the same queries on both dialects.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { DEFAULT_MIGRATION_TABLE, Kysely, Migrator, PostgresDialect, sql, SqliteDialect, type MigrationResultSet } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { Availability, silentLogger } from '../ops/availability.js';
import { DeadlineExceeded, withDeadline } from '../ops/health.js';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';
import { startCheckpointer } from './checkpointer.js';
import { openPostgresPool } from './postgres-pool.js';
import { groupCommit, groupedReads, plainReads, plainTransactions, type TransactionRunner } from './transactions.js';
import { asUnavailable, unavailabilityReason } from './unavailable.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** Runs protocol transactions; on SQLite, concurrent ones share a commit (see transactions.ts). */
  transaction: TransactionRunner;
  /** Runs reads on hot paths; on SQLite, the reads of one turn share a read transaction (see transactions.ts). */
  reads: TransactionRunner;
  /** PostgreSQL schema in use, when not the default search path. */
  schema?: string;
  /** Whether the database answered, as last seen; its changes are logged once each. */
  availability: Availability;
  /** PostgreSQL only: connections checked out, and requests waiting for one. */
  poolUsage?: () => { inUse: number; waiting: number };
  close(): Promise<void>;
}

// PostgreSQL returns int8 as a string; our int8 columns are epoch milliseconds, safe as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface OpenOptions {
  /** PostgreSQL only: an existing schema to use; tests run each suite in one of its own. */
  schema?: string;
  poolSize?: number;
  /**
   * The longest a request waits on the database for one step: a connection, a statement, or (on
   * SQLite) another connection's lock. Unset or 0: no bound on PostgreSQL, 5 s for SQLite's lock.
   */
  timeoutMs?: number;
  /** PostgreSQL: statements are not bound by `timeoutMs` (migrations), only the wait for a connection is. */
  statementsUnbounded?: boolean;
  /** Where the database going away and coming back is logged. */
  log?: Logger;
}

const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * Kysely prepares every statement anew; preparing costs more than running most of ours. The
 * statements are few and fixed, so keep each one prepared (better-sqlite3 re-prepares a cached
 * statement itself if the schema changes underneath it).
 *
 * Each statement is also guarded: an error that means the database cannot be used now (another
 * connection's lock past the busy timeout, a full disk, an I/O error) becomes a
 * `DependencyUnavailableError`. After such an error SQLite may already have rolled the
 * transaction back; Kysely's own rollback then finds none, and is skipped rather than failing with
 * "no transaction is active" in the original error's place.
 */
function guardStatements(sqlite: SQLite.Database, availability: Availability, limit = 1000): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, SQLite.Statement>();
  const unavailable = (error: unknown) => asUnavailable(error, availability);
  // Kysely passes a statement's parameters as one array.
  const guard = (statement: SQLite.Statement, isRollback: boolean) =>
    ({
      reader: statement.reader,
      all(parameters: unknown) {
        try {
          return statement.all(parameters);
        } catch (error) {
          throw unavailable(error);
        }
      },
      iterate(parameters: unknown) {
        try {
          return statement.iterate(parameters);
        } catch (error) {
          throw unavailable(error);
        }
      },
      run(parameters: unknown) {
        if (isRollback && !sqlite.inTransaction) return { changes: 0, lastInsertRowid: 0 };
        let result: SQLite.RunResult;
        try {
          result = statement.run(parameters);
        } catch (error) {
          throw unavailable(error);
        }
        // Back once a write has committed (reads may go on while writes cannot; a rollback proves nothing).
        if (availability.isDown && !isRollback && !sqlite.inTransaction) availability.up();
        return result;
      },
    }) as unknown as SQLite.Statement;
  sqlite.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (!statement) {
      try {
        statement = guard(prepare(source), source === 'rollback');
      } catch (error) {
        throw unavailable(error);
      }
      if (cache.size >= limit) cache.delete(cache.keys().next().value!);
      cache.set(source, statement);
    }
    return statement;
  }) as typeof sqlite.prepare;
}

/**
 * The schema a PostgreSQL URL selects with `?options=-c search_path=<schema>` (how one DATABASE_URL
 * carries a schema), so migrations keep their bookkeeping tables there too.
 */
function searchPathSchema(url: string): string | undefined {
  const options = URL.canParse(url) ? new URL(url).searchParams.get('options') : null;
  return options ? /^-c\s*search_path=([a-z_][a-z0-9_]*)$/.exec(options.trim())?.[1] : undefined;
}

export function openDatabase(url: string, options: OpenOptions = {}): Db {
  const availability = new Availability(options.log ?? silentLogger, {
    down: 'the database is unavailable: requests that need it are answered 503 until it is back',
    up: 'the database is available again',
  });
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    const file = path === ':memory:' || path === '' ? ':memory:' : resolve(path);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const sqlite = new SQLite(file);
    // WAL lets readers run beside the writer; NORMAL sync is durable against process crashes.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    // Checkpoint (copy the WAL back into the database, with an fsync) every ~40 MB rather than ~4 MB:
    // pages written many times between checkpoints (index tails) are copied once.
    sqlite.pragma('wal_autocheckpoint = 10000');
    sqlite.pragma('foreign_keys = ON');
    // better-sqlite3 waits for another connection's lock on the event loop, so the wait is kept short.
    sqlite.pragma(`busy_timeout = ${options.timeoutMs || DEFAULT_SQLITE_BUSY_TIMEOUT_MS}`);
    // 64 MiB of page cache rather than SQLite's 2 MiB: token lookups land on random pages, and a
    // page the connection does not hold is read from the OS again on every lookup.
    sqlite.pragma('cache_size = -65536');
    guardStatements(sqlite, availability);
    const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    const checkpointer = file === ':memory:' ? undefined : startCheckpointer(file, options.log ?? silentLogger);
    return {
      kysely,
      dialect: 'sqlite',
      transaction: groupCommit(kysely),
      reads: groupedReads(kysely),
      availability,
      close: async () => {
        await checkpointer?.stop();
        await kysely.destroy();
      },
    };
  }
  if (options.schema && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) {
    throw new Error(`invalid schema name ${options.schema}`);
  }
  const timeoutMs = options.timeoutMs ?? 0;
  const schema = options.schema ?? searchPathSchema(url);
  const pool = openPostgresPool(
    url,
    { poolSize: options.poolSize ?? 10, connectTimeoutMs: timeoutMs, statementTimeoutMs: options.statementsUnbounded ? 0 : timeoutMs, schema: options.schema },
    availability,
  );
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    transaction: plainTransactions(kysely),
    reads: plainReads(kysely),
    ...(schema ? { schema } : {}),
    availability,
    poolUsage: pool.usage,
    close: () => kysely.destroy(),
  };
}

export async function migrateToLatest(db: Db): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db: db.kysely,
    provider: { getMigrations: async () => migrations },
    // Kysely looks for its bookkeeping tables in this schema; without it, another schema's tables confuse it.
    ...(db.schema ? { migrationTableSchema: db.schema } : {}),
  });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}

export type DatabaseCheck =
  | { status: 'up'; schema: 'current' }
  | { status: 'up'; schema: 'behind'; pending: string[] }
  | { status: 'down'; reason: string };

/**
 * Whether the database answers a trivial query within `deadlineMs`, and whether every migration
 * this build knows has been applied (the query reads Kysely's migration table).
 */
export async function checkDatabase(db: Db, deadlineMs: number): Promise<DatabaseCheck> {
  let applied: Set<string>;
  try {
    const rows = await withDeadline(sql<{ name: string }>`select name from ${sql.table(DEFAULT_MIGRATION_TABLE)}`.execute(db.kysely), deadlineMs);
    applied = new Set(rows.rows.map((row) => row.name));
  } catch (error) {
    if (error instanceof DeadlineExceeded) return { status: 'down', reason: error.message };
    const reason = unavailabilityReason(error);
    if (reason !== undefined) return { status: 'down', reason };
    // It answered, with an error: the migration table does not exist yet.
    return { status: 'up', schema: 'behind', pending: Object.keys(migrations) };
  }
  const pending = Object.keys(migrations).filter((name) => !applied.has(name));
  return pending.length ? { status: 'up', schema: 'behind', pending } : { status: 'up', schema: 'current' };
}
