/**
 * Seeds a Tessera database through the project's own modules: one user, one confidential client,
 * the user's consent, and one token family per pre-minted refresh/access pair.
 */
import { createUser } from '../src/accounts/users.js';
import type { Config } from '../src/config.js';
import { createClient } from '../src/oauth/clients/registered.js';
import { FULL_ACCESS, saveGrant } from '../src/oauth/consent.js';
import { createFamily, mintTokens } from '../src/oauth/token-store.js';
import { createRuntime } from '../src/server.js';
import { RESOURCE, SCOPE, type BenchFixtures } from './fixtures.js';

const BATCH = 2_000;

export async function seedTessera(config: Config, tokenCount: number): Promise<BenchFixtures> {
  const runtime = await createRuntime(config);
  try {
    const { ctx } = runtime;
    const user = await createUser(ctx.db, { email: 'bench@example.com', password: 'correct horse battery staple' }, ctx.now());
    const { client, clientSecret } = await createClient(
      ctx.db,
      { kind: 'registered', name: 'Bench App', redirectUris: ['http://127.0.0.1/callback'], isPublic: false, scopeCeiling: [SCOPE] },
      ctx.now(),
    );
    if (!clientSecret) throw new Error('a confidential client has a secret');
    const grant = await saveGrant(ctx.db, { userId: user.id, clientId: client.id, scopes: [SCOPE], narrowing: FULL_ACCESS }, ctx.now());

    const fixtures: BenchFixtures = { clientId: client.id, clientSecret, refreshTokens: [], accessTokens: [] };
    for (let done = 0; done < tokenCount; done += BATCH) {
      await ctx.db.transaction().execute(async (trx) => {
        for (let i = done; i < Math.min(done + BATCH, tokenCount); i++) {
          const family = await createFamily(
            trx,
            { userId: user.id, clientId: client.id, grantId: grant.id, scopes: [SCOPE], narrowing: FULL_ACCESS, resource: RESOURCE, authTime: ctx.now() },
            ctx.now(),
          );
          const issued = await mintTokens(ctx, trx, family, client, SCOPE);
          fixtures.refreshTokens.push(issued.refreshToken);
          fixtures.accessTokens.push(issued.accessToken);
        }
      });
    }
    return fixtures;
  } finally {
    await runtime.close();
  }
}
