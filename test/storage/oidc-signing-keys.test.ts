/**
 * Signing key rotation: a new key is published before it signs, old tokens keep verifying through
 * the JWKS, and a retired key leaves the JWKS only once every token it signed has expired.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { unseal } from '../../packages/server/src/core/crypto/seal.js';
import { createFamily } from '../../packages/server/src/core/oauth/tokens.js';
import { generateToken } from '../../packages/server/src/core/crypto/token-formats.js';
import { listSigningKeys, rotateSigningKey } from '../../packages/server/src/core/oidc/signing-keys.js';
import { storageTargets } from '../support/database.js';
import { seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PUBLISH_DELAY_S = 600;
const ID_TOKEN_TTL_S = 3600;

for (const target of storageTargets()) {
  describe(`ID token signing keys (${target.name})`, () => {
    let server: TestServer;
    let userId: string;
    before(async () => {
      server = await startTestServer(target, { TESSERA_KEY_PUBLISH_DELAY: String(PUBLISH_DELAY_S), TESSERA_ID_TOKEN_TTL: String(ID_TOKEN_TTL_S) });
      // One user for every ID token: signing must not wait on a password hash between clock steps.
      userId = (await seedUser(server.ctx)).id;
    });
    after(() => server.close());

    async function idToken() {
      const { ctx } = server;
      const { client } = await seedClient(ctx);
      const family = await createFamily(
        ctx.store,
        { userId, clientId: client.id, authorizationId: 'g', scopes: ['openid'], narrowing: { accessLevel: 'all', organizationIds: [], projectIds: [] }, resource: null, authTime: ctx.now() },
        ctx.now(),
      );
      const token = (await ctx.idTokens.issue(ctx.store, { family, client, accessToken: generateToken('accessToken'), nonce: null }))!;
      return { token, clientId: client.id, kid: decodeProtectedHeader(token).kid! };
    }

    async function publishedKids(): Promise<string[]> {
      const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
      return jwks.keys.map((key) => key.kid!);
    }

    async function verifies(signed: { token: string; clientId: string }): Promise<boolean> {
      const jwks = createLocalJWKSet((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet);
      try {
        await jwtVerify(signed.token, jwks, { issuer: server.url, audience: signed.clientId, currentDate: new Date(server.ctx.now()) });
        return true;
      } catch {
        return false;
      }
    }

    it('keeps private keys sealed under the configured secret', async () => {
      const rows = await server.db.selectFrom('signing_keys').selectAll().execute();
      assert.ok(rows.length >= 2);
      for (const row of rows) {
        assert.ok(!row.private_jwk_sealed.includes('"d"'));
        assert.equal((JSON.parse(unseal(server.config.secretKey, 'signing key', row.private_jwk_sealed)) as { kid: string }).kid, row.kid);
        assert.throws(() => unseal('another-secret-key-that-is-long-enough-32', 'signing key', row.private_jwk_sealed));
      }
    });

    it('publishes a rotated key first, signs with it after the delay, and unpublishes the old one after its tokens expire', async () => {
      const { ctx } = server;
      const beforeRotation = await idToken();
      const oldKid = beforeRotation.kid;

      const { created } = await rotateSigningKey(ctx.store, ctx.config, 'RS256', ctx.now());
      ctx.signingKeys.invalidate();
      assert.equal(created.status, 'pending');
      assert.ok((await publishedKids()).includes(created.kid), 'the new key is published at once');
      server.advance(PUBLISH_DELAY_S * 1000 - 2000);
      ctx.signingKeys.invalidate();
      const lastOfOldKey = await idToken();
      assert.equal(lastOfOldKey.kid, oldKid, 'the old key signs until the new one has been published long enough');

      server.advance(3000);
      ctx.signingKeys.invalidate();
      const afterRotation = await idToken();
      assert.equal(afterRotation.kid, created.kid, 'new tokens use the new key');
      assert.ok(await verifies(beforeRotation), 'a token signed before the rotation still verifies');
      assert.ok(await verifies(afterRotation));
      const statuses = Object.fromEntries((await listSigningKeys(ctx.store, ctx.config, ctx.now())).map((key) => [key.kid, key.status]));
      assert.equal(statuses[oldKid], 'retired');
      assert.equal(statuses[created.kid], 'active');

      server.advance(ID_TOKEN_TTL_S * 1000 - 5000);
      ctx.signingKeys.invalidate();
      assert.ok((await publishedKids()).includes(oldKid), 'still published while tokens it signed may be valid');
      assert.ok(await verifies(lastOfOldKey), 'the last token the old key signed still verifies');

      server.advance(10_000);
      ctx.signingKeys.invalidate();
      assert.ok(!(await publishedKids()).includes(oldKid), 'gone once every token it signed has expired');
      assert.ok((await publishedKids()).includes(created.kid));
      const { deleted } = await rotateSigningKey(ctx.store, ctx.config, 'RS256', ctx.now());
      assert.deepEqual(deleted, [oldKid], 'the next rotation deletes the expired key');
    });

    it('rotates at once for a compromised key, leaving the other algorithm alone', async () => {
      const { ctx } = server;
      const es256Before = (await listSigningKeys(ctx.store, ctx.config, ctx.now())).filter((key) => key.alg === 'ES256' && key.status === 'active');
      const { created } = await rotateSigningKey(ctx.store, ctx.config, 'RS256', ctx.now(), { immediately: true });
      ctx.signingKeys.invalidate();
      assert.equal(created.status, 'active');
      assert.equal((await idToken()).kid, created.kid);
      const es256After = (await listSigningKeys(ctx.store, ctx.config, ctx.now())).filter((key) => key.alg === 'ES256' && key.status === 'active');
      assert.deepEqual(es256After, es256Before);
    });
  });
}
