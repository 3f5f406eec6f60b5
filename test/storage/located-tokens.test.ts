/**
 * Access and refresh tokens are found by their locator and checked against their stored hash
 * (migration 010). Tokens issued before it still work; a token naming a real row with another
 * secret does not. On every storage target.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Migrator, sql } from 'kysely';
import { createUser } from '../../packages/server/src/platform/accounts/users.js';
import { loadConfig } from '../../packages/server/src/config.js';
import { saveAuthorization } from '../../packages/server/src/core/oauth/authorizations.js';
import { FULL_ACCESS } from '../../packages/server/src/core/oauth/narrowing.js';
import { OAuthError } from '../../packages/server/src/core/oauth/errors.js';
import { refreshTokenGrant } from '../../packages/server/src/core/oauth/grant-types/refresh-token.js';
import type { OAuthClient } from '../../packages/server/src/core/clients/client.js';
import type { Context } from '../../packages/server/src/core/context.js';
import { introspectToken } from '../../packages/server/src/core/oauth/introspect.js';
import { revokeToken } from '../../packages/server/src/core/oauth/revoke.js';
import { createFamily, mintTokens } from '../../packages/server/src/core/oauth/tokens.js';
import { hashToken, parseToken, tokenRowId, withChecksum } from '../../packages/server/src/core/crypto/token-formats.js';
import { openStore, type OpenedStore } from '../../packages/server/src/store/index.js';
import { migrations } from '../../packages/server/src/store/migrations/index.js';
import { createRuntime } from '../../packages/server/src/runtime.js';
import { storageTargets } from '../support/database.js';
import { createTestRuntime } from '../support/runtime.js';
import { seedClient, seedUser } from '../support/seed.js';
import { randomBody } from '../support/tokens.js';

const SCOPE = 'project:read';
const isInvalidGrant = (error: unknown) => error instanceof OAuthError && error.code === 'invalid_grant';
const refreshTokens = (ctx: Context, client: OAuthClient, params: { refresh_token?: string }) => refreshTokenGrant.handle(ctx, client, params, {});

/**
 * A user, a confidential client, its grant and `count` token families. The user is written with the
 * modules of today; the client, grant and family rows with the tables and columns of their time
 * (later ones get their defaults; `grants` became `authorizations` in 013).
 */
async function seedFamilies(store: OpenedStore, count: number, now: number) {
  const db = store.kysely;
  const user = await createUser(store, { email: 'legacy@example.com', password: 'correct horse battery staple' }, now);
  const client = { id: 'pca_legacy_app' };
  await db
    .insertInto('clients')
    .values({ ...client, kind: 'registered', name: 'Old App', redirect_uris: JSON.stringify(['http://127.0.0.1/cb']), is_public: 0, scope_ceiling: SCOPE, verified: 0, created_at: now, updated_at: now })
    .execute();
  const grant = { id: randomUUID() };
  await sql`insert into grants (id, user_id, client_id, scope, access_level, organization_ids, project_ids, created_at, updated_at)
    values (${grant.id}, ${user.id}, ${client.id}, ${SCOPE}, 'all', '[]', '[]', ${now}, ${now})`.execute(db);
  const families = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    await sql`insert into token_families (id, user_id, client_id, grant_id, scope, access_level, organization_ids, project_ids, resource, auth_time, created_at)
      values (${id}, ${user.id}, ${client.id}, ${grant.id}, ${SCOPE}, 'all', '[]', '[]', null, ${now}, ${now})`.execute(db);
    families.push({ id });
  }
  return { user, client, families };
}

for (const target of storageTargets()) {
  describe(`located tokens (${target.name})`, () => {
    it('keeps tokens issued before migration 010 working, found by their hash', async () => {
      const database = await target.create();
      const options = database.schema ? { schema: database.schema } : {};
      const now = Date.now();
      const legacy = { access: withChecksum('pha_' + randomBody()), refresh: withChecksum('phr_' + randomBody()), rotated: withChecksum('phr_' + randomBody()) };
      let seeded;
      const before = openStore(database.url, options);
      try {
        const migrator = new Migrator({ db: before.kysely, provider: { getMigrations: async () => migrations }, ...(database.schema ? { migrationTableSchema: database.schema } : {}) });
        const { error } = await migrator.migrateTo('009_token_expiry_indexes');
        assert.ifError(error);
        seeded = await seedFamilies(before, 2, now);
        const [live, retired] = [seeded.families[0]!, seeded.families[1]!];
        // Rows as the token store wrote them before 010: keyed by hash, the successor sealed on the old row.
        await sql`insert into access_tokens (token_hash, family_id, scope, expires_at, created_at)
          values (${hashToken(legacy.access)}, ${live.id}, ${SCOPE}, ${now + 3_600_000}, ${now})`.execute(before.kysely);
        await sql`insert into refresh_tokens (token_hash, family_id, expires_at, created_at)
          values (${hashToken(legacy.refresh)}, ${live.id}, ${now + 86_400_000}, ${now})`.execute(before.kysely);
        await sql`insert into refresh_tokens (token_hash, family_id, expires_at, created_at, rotated_at, successor_sealed)
          values (${hashToken(legacy.rotated)}, ${retired.id}, ${now + 86_400_000}, ${now}, ${now - 1_000}, ${'sealed before 010'})`.execute(before.kysely);
      } finally {
        await before.close();
      }

      // Starting the server migrates to the latest version.
      const runtime = await createRuntime(loadConfig({ DATABASE_URL: database.url, TESSERA_RATE_LIMITS: 'false' }), options);
      try {
        const client = (await runtime.ctx.clients.resolve(seeded.client.id))!;
        const introspected = await introspectToken(runtime.ctx, client, { token: legacy.access });
        assert.equal(introspected.active, true);
        assert.equal(introspected.sub, seeded.user.id);

        const rotated = await refreshTokens(runtime.ctx, client, { refresh_token: legacy.refresh });
        assert.equal(parseToken(rotated.refresh_token), 'refreshToken');
        assert.equal(tokenRowId(rotated.refresh_token!), rotated.refresh_token!.slice(4, 26), 'the successor carries a locator');
        assert.deepEqual(await refreshTokens(runtime.ctx, client, { refresh_token: legacy.refresh }), rotated, 'a retry within the grace window gets the same successor');
        assert.equal((await introspectToken(runtime.ctx, client, { token: rotated.access_token })).active, true);

        // Rotated before the upgrade: its sealed successor was not carried over, so a retry counts as reuse.
        await assert.rejects(refreshTokens(runtime.ctx, client, { refresh_token: legacy.rotated }), isInvalidGrant);

        await revokeToken(runtime.ctx, client, { token: legacy.access });
        assert.deepEqual(await introspectToken(runtime.ctx, client, { token: legacy.access }), { active: false });
      } finally {
        await runtime.close();
        await database.drop();
      }
    });

    it('refuses a token that names a real row but carries another secret', async () => {
      const rt = await createTestRuntime(target);
      try {
        const user = await seedUser(rt.ctx);
        const { client } = await seedClient(rt.ctx, { scopeCeiling: [SCOPE] });
        const authorization = await rt.ctx.store.transaction((tx) => saveAuthorization(tx, { userId: user.id, clientId: client.id, scopes: [SCOPE], narrowing: FULL_ACCESS }, rt.ctx.now()));
        const family = await createFamily(rt.ctx.store, { userId: user.id, clientId: client.id, authorizationId: authorization.id, scopes: [SCOPE], narrowing: FULL_ACCESS, resource: null, authTime: rt.ctx.now() }, rt.ctx.now());
        const real = await mintTokens(rt.ctx, rt.ctx.store, family, client, SCOPE);
        // Same prefix and locator, a fresh secret, a valid checksum: well-formed, but not the token.
        const forge = (token: string) => withChecksum(token.slice(0, 4 + 22) + randomBody());
        const forged = { access: forge(real.accessToken), refresh: forge(real.refreshToken!) };
        assert.equal(tokenRowId(forged.access), tokenRowId(real.accessToken));

        assert.deepEqual(await introspectToken(rt.ctx, client, { token: forged.access }), { active: false });
        assert.deepEqual(await introspectToken(rt.ctx, client, { token: forged.refresh }), { active: false });
        await assert.rejects(refreshTokens(rt.ctx, client, { refresh_token: forged.refresh }), isInvalidGrant);
        await revokeToken(rt.ctx, client, { token: forged.access });
        await revokeToken(rt.ctx, client, { token: forged.refresh });

        // The real tokens are untouched by any of it.
        assert.equal((await introspectToken(rt.ctx, client, { token: real.accessToken })).active, true);
        assert.equal(parseToken((await refreshTokens(rt.ctx, client, { refresh_token: real.refreshToken })).refresh_token), 'refreshToken');
      } finally {
        await rt.dispose();
      }
    });
  });
}
