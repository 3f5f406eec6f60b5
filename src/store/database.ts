/**
 * Opens the database named by DATABASE_URL with the matching Kysely dialect. Everything above
 * this file runs the same queries on both dialects.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type MigrationResultSet } from 'kysely';
import pg from 'pg';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';
import { startCheckpointer } from './checkpointer.js';
import { groupCommit, groupedReads, plainReads, plainTransactions, type TransactionRunner } from './transactions.js';

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
  close(): Promise<void>;
}

// PostgreSQL returns int8 as a string; our int8 columns are epoch milliseconds, safe as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface OpenOptions {
  /** PostgreSQL only: an existing schema to use; tests run each suite in one of its own. */
  schema?: string;
  poolSize?: number;
}

/**
 * Kysely prepares every statement anew; preparing costs more than running most of ours. The
 * statements are few and fixed, so keep each one prepared (better-sqlite3 re-prepares a cached
 * statement itself if the schema changes underneath it).
 */
function cachePreparedStatements(sqlite: SQLite.Database, limit = 1000): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, SQLite.Statement>();
  sqlite.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (!statement) {
      statement = prepare(source);
      if (cache.size >= limit) cache.delete(cache.keys().next().value!);
      cache.set(source, statement);
    }
    return statement;
  }) as typeof sqlite.prepare;
}

export function openDatabase(url: string, options: OpenOptions = {}): Db {
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
    sqlite.pragma('busy_timeout = 5000');
    // 64 MiB of page cache rather than SQLite's 2 MiB: token lookups land on random pages, and a
    // page the connection does not hold is read from the OS again on every lookup.
    sqlite.pragma('cache_size = -65536');
    cachePreparedStatements(sqlite);
    const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    const checkpointer = file === ':memory:' ? undefined : startCheckpointer(file);
    return {
      kysely,
      dialect: 'sqlite',
      transaction: groupCommit(kysely),
      reads: groupedReads(kysely),
      close: async () => {
        await checkpointer?.stop();
        await kysely.destroy();
      },
    };
  }
  if (options.schema && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) {
    throw new Error(`invalid schema name ${options.schema}`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { kysely, dialect: 'postgres', transaction: plainTransactions(kysely), reads: plainReads(kysely), ...(options.schema ? { schema: options.schema } : {}), close: () => kysely.destroy() };
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
