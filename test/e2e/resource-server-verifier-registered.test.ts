/**
 * @tessera/resource-server's verifier against a real Tessera as a registered resource server does
 * it: introspection with the resource server's own credentials, and JWT access tokens (RFC 9068)
 * checked offline against the JWKS — valid, expired, for another resource, of the wrong `typ`,
 * revoked, and signed by a key the verifier has not seen yet (rotated) or that is not published.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { BearerError, createVerifier } from '../../packages/resource-server/src/index.js';
import { createResourceServer } from '../../packages/server/src/core/resources/registered.js';
import { rotateSigningKey } from '../../packages/server/src/core/oidc/signing-keys.js';
import { sqliteTarget } from '../support/database.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT_URI = 'http://127.0.0.1:7777/callback';

const refused = (status: number, code: string, description?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof BearerError, String(error));
  assert.equal(error.status, status);
  assert.equal(error.code, code);
  if (description) assert.match(error.description, description);
  return true;
};

describe('resource-server verifier as a registered resource server', () => {
  let server: TestServer;
  let app: TestOAuthClient;
  let agent: UserAgent;
  let userId: string;

  before(async () => {
    server = await startTestServer(sqliteTarget);
    const user = await seedUser(server.ctx);
    userId = user.id;
    const { client, clientSecret } = await seedClient(server.ctx, { redirectUris: [REDIRECT_URI] });
    app = await TestOAuthClient.discover(server.url, { clientId: client.id, clientSecret, redirectUri: REDIRECT_URI });
    agent = new UserAgent(server.url);
    await agent.signIn(user.email, PASSWORD);
  });
  after(() => server.close());

  async function issue(resource: string, scope = 'project:read') {
    const { url, codeVerifier, state } = await app.authorizationUrl(scope, { prompt: 'consent', resource });
    return app.exchange(await agent.authorize(url.href), codeVerifier, state);
  }

  async function register(uri: string, tokenFormat: 'opaque' | 'jwt') {
    const { resource, clientSecret } = await createResourceServer(server.ctx, { uri, name: uri, tokenFormat, accessTokenTtl: null, platformApiAccess: false });
    return { clientId: resource.client_id, clientSecret };
  }

  it('introspects with its own credentials: its tokens pass, others and revoked ones do not', async () => {
    const resource = 'https://opaque.example/api';
    const credentials = await register(resource, 'opaque');
    const other = 'https://elsewhere.example/api';
    await register(other, 'opaque');
    const cacheMs = 500;
    const verifier = createVerifier({ issuer: server.url, resource, introspection: credentials, cacheMs });

    const tokens = await issue(resource, 'project:read user:read');
    const principal = await verifier.verify(`Bearer ${tokens.access_token}`);
    assert.equal(principal.sub, userId);
    assert.equal(principal.clientId, app.options.clientId);
    assert.deepEqual(principal.scopes, ['project:read', 'user:read']);

    await assert.rejects(verifier.verifyToken((await issue(other)).access_token), refused(401, 'invalid_token', /invalid, expired or revoked/));

    await app.revoke(tokens.refresh_token!);
    await sleep(cacheMs + 50);
    await assert.rejects(verifier.verifyToken(tokens.access_token), refused(401, 'invalid_token', /invalid, expired or revoked/));
  });

  describe('JWT access tokens', () => {
    const resource = 'https://jwt.example/api';
    const otherResource = 'https://jwt-other.example/api';
    let verifier: ReturnType<typeof createVerifier>;

    before(async () => {
      await register(resource, 'jwt');
      await register(otherResource, 'jwt');
      // No introspection credentials: JWTs only, checked offline.
      verifier = createVerifier({ issuer: server.url, resource, jwksCooldownMs: 0 });
    });

    it('accepts a valid one, with the grant in the principal', async () => {
      const tokens = await issue(resource, 'project:read');
      const principal = await verifier.verifyToken(tokens.access_token);
      assert.deepEqual({ ...principal, expiresAt: 0 }, { sub: userId, clientId: app.options.clientId, scopes: ['project:read'], accessLevel: 'all', organizationIds: [], projectIds: [], expiresAt: 0 });
    });

    it('refuses an expired one, one for another resource, and one of the wrong typ', async () => {
      // Signed with Tessera's own active key, expired a minute ago (beyond the verifier's clock tolerance).
      const signing = await server.ctx.signingKeys.signingKey('RS256');
      const now = Math.floor(Date.now() / 1000);
      const expired = {
        access_token: await new SignJWT({ client_id: app.options.clientId, scope: 'project:read', access_level: 'all' })
          .setProtectedHeader({ alg: 'RS256', kid: signing.kid, typ: 'at+jwt' })
          .setIssuer(server.url).setAudience(resource).setSubject(userId).setJti('expired').setIssuedAt(now - 360).setExpirationTime(now - 60)
          .sign(signing.key),
      };
      await assert.rejects(verifier.verifyToken(expired.access_token), refused(401, 'invalid_token', /expired/));
      await assert.rejects(verifier.verifyToken((await issue(otherResource)).access_token), refused(401, 'invalid_token', /another resource/));
      // An ID token is signed with the same keys but is no access token (typ JWT).
      const withIdToken = await issue(resource, 'openid project:read');
      assert.ok(withIdToken.id_token);
      await assert.rejects(verifier.verifyToken(withIdToken.id_token!), refused(401, 'invalid_token', /typ must be at\+jwt/));
    });

    it('keeps accepting a revoked one until it expires (offline), while its refresh is refused at once', async () => {
      const tokens = await issue(resource);
      await app.revoke(tokens.refresh_token!);
      assert.equal((await verifier.verifyToken(tokens.access_token)).sub, userId, 'a JWT cannot be recalled: hence its short lifetime');
      await assert.rejects(app.refresh(tokens.refresh_token!));
      // A verifier that introspects sees it as revoked.
      assert.equal((await app.introspect(tokens.access_token)).active, false);
    });

    it('fetches the JWKS again for a kid it has not seen (rotation), and refuses a key that is not published', async () => {
      await verifier.verifyToken((await issue(resource)).access_token); // the JWKS is cached now
      await rotateSigningKey(server.ctx.store, server.ctx.config, 'RS256', server.ctx.now(), { immediately: true });
      server.ctx.signingKeys.invalidate();
      const rotated = await issue(resource);
      assert.equal((await verifier.verifyToken(rotated.access_token)).sub, userId);

      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT({ client_id: app.options.clientId, scope: 'project:read', access_level: 'all' })
        .setProtectedHeader({ alg: 'RS256', kid: 'not-published', typ: 'at+jwt' })
        .setIssuer(server.url).setAudience(resource).setSubject(userId).setJti('x').setIssuedAt().setExpirationTime('5m')
        .sign(privateKey);
      await assert.rejects(verifier.verifyToken(forged), refused(401, 'invalid_token', /key the authorization server does not publish/));
    });
  });
});
