/** Two regional Tessera deployments (us, eu) on SQLite behind a region-agnostic front, on loopback. */
import type { FastifyInstance } from 'fastify';
import { loadFrontConfig } from '../../packages/server/src/config.js';
import { buildFront } from '../../packages/server/src/http/front.js';
import { sqliteTarget } from './database.js';
import { freePort, startTestServer, type TestServer } from './server.js';

export interface Regions {
  us: TestServer;
  eu: TestServer;
  front: FastifyInstance;
  frontUrl: string;
  close(): Promise<void>;
}

/** `env` is given to both regions (CIMD settings, say). */
export async function startRegions(env: Record<string, string> = {}): Promise<Regions> {
  const [usPort, euPort, frontPort] = [await freePort(), await freePort(), await freePort()];
  const frontUrl = `http://127.0.0.1:${frontPort}`;
  const regions = `us=http://127.0.0.1:${usPort},eu=http://127.0.0.1:${euPort}`;
  const shared = { ...env, TESSERA_ISSUER: frontUrl, TESSERA_REGIONS: regions };
  const us = await startTestServer(sqliteTarget, { ...shared, PORT: String(usPort), TESSERA_REGION: 'us' });
  const eu = await startTestServer(sqliteTarget, { ...shared, PORT: String(euPort), TESSERA_REGION: 'eu' });
  const front = await buildFront(loadFrontConfig({ PORT: String(frontPort), TESSERA_ISSUER: frontUrl, TESSERA_REGIONS: regions, TESSERA_FRONT_TIMEOUT_MS: '3000' }));
  await front.listen({ port: frontPort, host: '127.0.0.1' });
  return {
    us,
    eu,
    front,
    frontUrl,
    async close() {
      await front.close();
      await us.close();
      await eu.close();
    },
  };
}
