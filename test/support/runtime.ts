/** A runtime (database + context) on a storage target, with a clock tests can move. */
import { loadConfig, type Config } from '../../packages/server/src/config.js';
import type { Kysely } from 'kysely';
import { createRuntime, type Runtime } from '../../packages/server/src/runtime.js';
import type { Database } from '../../packages/server/src/store/schema.js';
import { cliDatabaseUrl, type StorageTarget } from './database.js';

export interface TestRuntime extends Runtime {
  /** Moves the context's clock forward. */
  advance(ms: number): void;
  config: Config;
  /** The tables under the store, for tests that check what was written. */
  db: Kysely<Database>;
  /** The same database as one DATABASE_URL, for the CLI (a PostgreSQL schema travels in it). */
  cliDatabaseUrl: string;
  dispose(): Promise<void>;
}

export async function createTestRuntime(target: StorageTarget, env: Record<string, string> = {}): Promise<TestRuntime> {
  const database = await target.create();
  const config = loadConfig({ DATABASE_URL: database.url, TESSERA_RATE_LIMITS: 'false', ...env });
  const runtime = await createRuntime(config, database.schema ? { schema: database.schema } : {});
  let offset = 0;
  runtime.ctx.now = () => Date.now() + offset;
  return {
    ...runtime,
    config,
    db: runtime.store.kysely,
    cliDatabaseUrl: cliDatabaseUrl(database),
    advance(ms) {
      offset += ms;
    },
    async dispose() {
      await runtime.close();
      await database.drop();
    },
  };
}
