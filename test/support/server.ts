/** A real Tessera server on a loopback port, on a storage target, for end-to-end tests. */
import { createServer as createNetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createServer } from '../../packages/server/src/server.js';
import type { AppOptions } from '../../packages/server/src/http/app.js';
import type { StorageTarget } from './database.js';
import { createTestRuntime, type TestRuntime } from './runtime.js';

export interface TestServer extends TestRuntime {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startTestServer(
  target: StorageTarget,
  env: Record<string, string> = {},
  options: Omit<AppOptions, 'redis' | 'health'> = {},
): Promise<TestServer> {
  // A region must know its own URL before it starts, so a test may choose the port.
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const url = `http://127.0.0.1:${port}`;
  const runtime = await createTestRuntime(target, { PORT: String(port), TESSERA_ISSUER: url, ...env });
  const app = await createServer(runtime, options);
  await app.listen({ port, host: '127.0.0.1' });
  return {
    ...runtime,
    app,
    url,
    async close() {
      await app.close();
      await runtime.dispose();
    },
  };
}
