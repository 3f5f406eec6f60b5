/** A runtime (database + context) on a storage target, with a clock tests can move. */
import { loadConfig, type Config } from '../../packages/server/src/config.js';
import { createRuntime, type Runtime } from '../../packages/server/src/server.js';
import type { StorageTarget } from './database.js';

export interface TestRuntime extends Runtime {
  /** Moves the context's clock forward. */
  advance(ms: number): void;
  config: Config;
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
    advance(ms) {
      offset += ms;
    },
    async dispose() {
      await runtime.close();
      await database.drop();
    },
  };
}
