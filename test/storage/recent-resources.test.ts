/**
 * Issuing a token reads the family's resource (its token format and lifetime) from memory for up
 * to a second, so that a refresh-token rotation pays no query for it: a change made elsewhere
 * (another instance, the CLI) is seen within that second, a change made through this instance at
 * once (and, with Redis, through any instance).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Context } from '../../packages/server/src/core/context.js';
import { saveAuthorization } from '../../packages/server/src/core/oauth/authorizations.js';
import { FULL_ACCESS } from '../../packages/server/src/core/oauth/narrowing.js';
import { createFamily, mintTokens } from '../../packages/server/src/core/oauth/tokens.js';
import { createResourceServer, deleteResourceServer } from '../../packages/server/src/core/resources/registered.js';
import { RECENT_RESOURCE_MS } from '../../packages/server/src/core/resources/registry.js';
import { twoInstances, readUntil } from '../support/instances.js';
import { sqliteTarget, storageTargets } from '../support/database.js';
import { createTestRuntime, type TestRuntime } from '../support/runtime.js';
import { seedClient, seedUser } from '../support/seed.js';

const SCOPE = 'project:read';
const isJwt = (token: string) => token.split('.').length === 3;

/** A family bound to `resource` and a function that issues a token from it, as a rotation does. */
async function familyFor(ctx: Context, resource: string) {
  const now = ctx.now();
  const user = await seedUser(ctx);
  const { client } = await seedClient(ctx, { accessTokenTtl: 600 });
  const authorization = await ctx.store.transaction((tx) => saveAuthorization(tx, { userId: user.id, clientId: client.id, scopes: [SCOPE], narrowing: FULL_ACCESS }, now));
  const family = await ctx.store.transaction((tx) =>
    createFamily(tx, { userId: user.id, clientId: client.id, authorizationId: authorization.id, scopes: [SCOPE], narrowing: FULL_ACCESS, resource, authTime: now }, now),
  );
  return () => ctx.store.transaction((tx) => mintTokens(ctx, tx, family, client, SCOPE));
}

const register = (ctx: Context, uri: string, tokenFormat: 'opaque' | 'jwt') =>
  createResourceServer(ctx, { uri, name: uri, tokenFormat, accessTokenTtl: tokenFormat === 'jwt' ? 120 : null, platformApiAccess: false });

for (const target of storageTargets()) {
  describe(`recently read resources (${target.name})`, () => {
    let rt: TestRuntime;
    before(async () => {
      rt = await createTestRuntime(target);
    });
    after(() => rt.dispose());

    const changeElsewhere = (uri: string, tokenFormat: 'opaque' | 'jwt') =>
      rt.db.updateTable('resource_servers').set({ token_format: tokenFormat, access_token_ttl: tokenFormat === 'jwt' ? 120 : null }).where('uri', '=', uri).execute();
    const deleteElsewhere = (uri: string) => rt.db.deleteFrom('resource_servers').where('uri', '=', uri).execute();

    it('issues by a resource read at most a second ago: a change or a deletion made elsewhere shows within it', async () => {
      const uri = 'https://changed.example/api';
      await register(rt.ctx, uri, 'opaque');
      const issue = await familyFor(rt.ctx, uri);
      assert.ok(!isJwt((await issue()).accessToken));

      await changeElsewhere(uri, 'jwt');
      assert.ok(!isJwt((await issue()).accessToken), 'the resource kept from the last issue');
      rt.advance(RECENT_RESOURCE_MS);
      const afterChange = await issue();
      assert.ok(isJwt(afterChange.accessToken), 'read again once a second has passed');
      assert.equal(afterChange.accessExpiresIn, 120);

      await deleteElsewhere(uri);
      assert.equal((await issue()).accessExpiresIn, 120);
      rt.advance(RECENT_RESOURCE_MS);
      const afterDeletion = await issue();
      assert.ok(!isJwt(afterDeletion.accessToken), 'a resource no longer registered: the client\'s opaque token');
      assert.equal(afterDeletion.accessExpiresIn, 600);
    });

    it('sees a change made through this instance at once: deleted, then registered again with another format', async () => {
      const uri = 'https://here.example/api';
      await register(rt.ctx, uri, 'opaque');
      const issue = await familyFor(rt.ctx, uri);
      assert.ok(!isJwt((await issue()).accessToken));
      assert.ok(await deleteResourceServer(rt.ctx, uri));
      await register(rt.ctx, uri, 'jwt');
      assert.ok(isJwt((await issue()).accessToken));
    });

    it('does not keep a resource read before a change that lands while the read is under way', async () => {
      const uri = 'https://racing.example/api';
      await register(rt.ctx, uri, 'opaque');
      const reading = rt.ctx.resources.findRecent(rt.ctx.store, uri);
      rt.ctx.resources.forget(uri);
      assert.equal((await reading)?.tokenFormat, 'opaque');
      await changeElsewhere(uri, 'jwt');
      assert.equal((await rt.ctx.resources.findRecent(rt.ctx.store, uri))?.tokenFormat, 'jwt');
    });
  });
}

const redisUrl = process.env.TEST_REDIS_URL;

describe('resource changes announced through Redis', { skip: redisUrl ? false : 'TEST_REDIS_URL is not set' }, () => {
  it('makes another instance drop its copy of a changed resource at once', async () => {
    const database = await sqliteTarget.create();
    const { here, there, bothListening, close } = await twoInstances(database.url, redisUrl!);
    try {
      await bothListening('resource-changed');
      const uri = 'https://announced.example/api';
      assert.equal(await there.ctx.resources.findRecent(there.ctx.store, uri), undefined, 'not registered yet, and kept so');
      const changedAt = Date.now();
      await register(here.ctx, uri, 'jwt');
      const seen = await readUntil(async () => (await there.ctx.resources.findRecent(there.ctx.store, uri))?.tokenFormat, (format) => format === 'jwt', changedAt, RECENT_RESOURCE_MS / 2);
      assert.equal(seen, 'jwt', 'the other instance read the resource again well within the second');
    } finally {
      await close();
      await database.drop();
    }
  });
});
