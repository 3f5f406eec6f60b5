/**
 * Seeds a Tessera database through the project's own modules: one user, one confidential client,
 * the user's consent, and one token family per pre-minted refresh/access pair. The refresh and
 * introspection runs and the API benchmark's server all seed this way.
 */
import { createUser } from '../packages/server/src/platform/accounts/users.js';
import type { Config } from '../packages/server/src/config.js';
import type { Context } from '../packages/server/src/core/context.js';
import { createClient } from '../packages/server/src/core/clients/registered.js';
import { saveAuthorization } from '../packages/server/src/core/oauth/authorizations.js';
import { FULL_ACCESS } from '../packages/server/src/core/oauth/narrowing.js';
import { createFamily, mintTokens } from '../packages/server/src/core/oauth/tokens.js';
import { createRuntime } from '../packages/server/src/runtime.js';
import { RESOURCE, SCOPE, type BenchFixtures } from './fixtures.js';

const BATCH = 2_000;

export interface SeededFamilies extends BenchFixtures {
  userId: string;
}

/** `email` names the user the families belong to: one per call on the same database. */
export async function seedFamilies(ctx: Context, options: { count: number; resource: string | null; email?: string }): Promise<SeededFamilies> {
  const now = ctx.now();
  const user = await createUser(ctx.store, { email: options.email ?? 'bench@example.com', password: 'correct horse battery staple' }, now);
  const { client, clientSecret } = await createClient(
    ctx.store,
    { kind: 'registered', name: 'Bench App', redirectUris: ['http://127.0.0.1/callback'], isPublic: false, scopeCeiling: [SCOPE] },
    now,
  );
  if (!clientSecret) throw new Error('a confidential client has a secret');
  const authorization = await ctx.store.transaction((tx) => saveAuthorization(tx, { userId: user.id, clientId: client.id, scopes: [SCOPE], narrowing: FULL_ACCESS }, now));

  const seeded: SeededFamilies = { userId: user.id, clientId: client.id, clientSecret, refreshTokens: [], accessTokens: [] };
  for (let done = 0; done < options.count; done += BATCH) {
    // Pairs are kept once the batch commits (a transaction's work may run again).
    const batch = await ctx.store.transaction(async (tx) => {
      const pairs = [];
      for (let i = done; i < Math.min(done + BATCH, options.count); i++) {
        const family = await createFamily(
          tx,
          { userId: user.id, clientId: client.id, authorizationId: authorization.id, scopes: [SCOPE], narrowing: FULL_ACCESS, resource: options.resource, authTime: now },
          now,
        );
        pairs.push(await mintTokens(ctx, tx, family, client, SCOPE));
      }
      return pairs;
    });
    for (const issued of batch) {
      seeded.refreshTokens.push(issued.refreshToken!);
      seeded.accessTokens.push(issued.accessToken);
    }
  }
  return seeded;
}

/** Seeds the database `config` names for the refresh and introspection runs, then closes it. */
export async function seedTessera(config: Config, tokenCount: number): Promise<BenchFixtures> {
  const runtime = await createRuntime(config);
  try {
    return await seedFamilies(runtime.ctx, { count: tokenCount, resource: RESOURCE });
  } finally {
    await runtime.close();
  }
}
