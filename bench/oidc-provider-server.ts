/**
 * node-oidc-provider v9 configured like Tessera for the benchmark: a confidential client using
 * client_secret_basic, rotating refresh tokens, introspection of a client's own tokens, opaque
 * access tokens for one resource server, the in-memory adapter (or, with BENCH_SQLITE=<file>, a
 * SQLite adapter with Tessera's durability settings). Pre-mints BENCH_TOKENS grants
 * (each with a refresh and an access token), writes them to BENCH_OUTPUT as JSON, then listens on
 * 127.0.0.1:BENCH_PORT and prints "ready".
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type ResourceServerInfo } from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';
import { ACCOUNT_ID, RESOURCE, SCOPE, type BenchFixtures } from './fixtures.js';
import { sqliteAdapterFactory } from './oidc-provider-sqlite-adapter.js';

const port = Number(process.env.BENCH_PORT);
const tokenCount = Number(process.env.BENCH_TOKENS);
const output = process.env.BENCH_OUTPUT;
const sqlite = process.env.BENCH_SQLITE ? sqliteAdapterFactory(process.env.BENCH_SQLITE) : undefined;
if (!port || !tokenCount || !output) throw new Error('BENCH_PORT, BENCH_TOKENS and BENCH_OUTPUT are required');

const CLIENT_ID = 'bench-client';
const clientSecret = randomBytes(32).toString('base64url');
const resourceServer: ResourceServerInfo = { scope: SCOPE, audience: RESOURCE, accessTokenFormat: 'opaque' };

// The stock memory adapter keeps at most 1000 entries (an LRU) and would evict the pre-minted
// tokens; the same adapter over a store large enough for the whole run never evicts.
// Entries: per pair a grant, a refresh and an access token, plus two more per refresh request.
const store = new LRU({ maxSize: tokenCount * 8 + 10_000 });

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const provider = new Provider(`http://127.0.0.1:${port}`, {
  adapter: sqlite ? sqlite.Adapter : (model: string) => new MemoryAdapter(model, store),
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: clientSecret,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
  jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench' }] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  rotateRefreshToken: true,
  ttl: { AccessToken: 3600, RefreshToken: 30 * 24 * 3600, Grant: 30 * 24 * 3600 },
  features: {
    devInteractions: { enabled: false },
    // As in Tessera, a client may introspect only its own tokens.
    introspection: { enabled: true, allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) => token.clientId === client.clientId },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => resourceServer,
    },
  },
});

const client = await provider.Client.find(CLIENT_ID);
if (!client) throw new Error('the benchmark client is not configured');

const fixtures: BenchFixtures = { clientId: CLIENT_ID, clientSecret, refreshTokens: [], accessTokens: [] };
const authTime = Math.floor(Date.now() / 1000);
// Seeding only: one transaction for all pre-minted rows (the measured requests commit one by one).
sqlite?.db.exec('BEGIN');
for (let i = 0; i < tokenCount; i++) {
  const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: CLIENT_ID });
  grant.addOIDCScope('offline_access');
  grant.addResourceScope(RESOURCE, SCOPE);
  const grantId = await grant.save();
  const common = { accountId: ACCOUNT_ID, client, grantId, gty: 'authorization_code', expiresWithSession: false };
  fixtures.refreshTokens.push(
    await new provider.RefreshToken({ ...common, authTime, scope: `offline_access ${SCOPE}`, resource: RESOURCE, rotations: 0 }).save(),
  );
  fixtures.accessTokens.push(
    await new provider.AccessToken({ ...common, scope: SCOPE, resourceServer: new provider.ResourceServer(RESOURCE, resourceServer) }).save(),
  );
}
sqlite?.db.exec('COMMIT');
writeFileSync(output, JSON.stringify(fixtures));

const server = createServer(provider.callback());
server.listen(port, '127.0.0.1', () => console.log('ready'));
// Exit normally on SIGTERM so a CPU profile (BENCH_CPU_PROF_DIR) is written.
process.once('SIGTERM', () => process.exit(0));
