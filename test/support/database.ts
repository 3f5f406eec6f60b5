/**
 * Storage targets for tests: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. Each test
 * run gets a database of its own (a temporary SQLite file, or a fresh PostgreSQL schema that is
 * dropped afterwards).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { registerSkippedSuite } from './skips.js';

export interface StorageTarget {
  name: 'sqlite' | 'postgres';
  /** Creates an empty database and returns its URL, options and a cleanup function. */
  create(): Promise<{ url: string; schema?: string; drop(): Promise<void> }>;
}

export const sqliteTarget: StorageTarget = {
  name: 'sqlite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
    return { url: `sqlite:${join(dir, 'tessera.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

/**
 * A database of the suite's own, with a schema of its own in it (so the schema-in-the-URL path is
 * exercised too). A database rather than only a schema: Kysely's migrator reads the catalog of
 * every schema in its database, and a schema another suite drops at that moment made it fail.
 */
export function postgresTarget(url: string): StorageTarget {
  return {
    name: 'postgres',
    async create() {
      const name = `t_${randomBytes(6).toString('hex')}`;
      const databaseUrl = new URL(url);
      databaseUrl.pathname = `/${name}`;
      await runSql(url, `CREATE DATABASE ${name}`);
      await runSql(databaseUrl.href, `CREATE SCHEMA ${name}`);
      return {
        url: databaseUrl.href,
        schema: name,
        drop: () => runSql(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      };
    },
  };
}

async function runSql(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * The database as one DATABASE_URL, for a child process (the CLI, `tessera start`): a PostgreSQL
 * schema of the test's own travels in the URL's options.
 */
export function cliDatabaseUrl(database: { url: string; schema?: string | undefined }): string {
  if (!database.schema) return database.url;
  const url = new URL(database.url);
  url.searchParams.set('options', `-c search_path=${database.schema}`);
  return url.href;
}

/** SQLite, plus PostgreSQL when TEST_DATABASE_URL names one. */
export function storageTargets(): StorageTarget[] {
  const url = process.env.TEST_DATABASE_URL;
  // skips (test/support/skips.ts): the PostgreSQL variant registers as a skipped suite, with why.
  // TEST_DATABASE_SKIP_REASON is set by scripts/test.mjs when TEST_DATABASE_URL did not answer.
  if (!url) registerSkippedSuite('PostgreSQL variant', 'PostgreSQL storage variants', process.env.TEST_DATABASE_SKIP_REASON ?? 'TEST_DATABASE_URL is not set');
  // end skips
  return url ? [sqliteTarget, postgresTarget(url)] : [sqliteTarget];
}

if (!process.env.TEST_DATABASE_URL && !process.env.TESSERA_QUIET_SKIP) {
  process.env.TESSERA_QUIET_SKIP = '1';
  process.stderr.write('note: TEST_DATABASE_URL is not set; storage tests run on SQLite only (PostgreSQL skipped)\n');
}
