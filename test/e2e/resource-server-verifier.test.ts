/**
 * @tessera/resource-server's verifier against a real Tessera, by introspection (RFC 7662) with the
 * credentials of the client that owns the tokens (all today's server allows; introspection by
 * registered resource servers, and JWT access tokens, come with the server side): the principal
 * of a full and a narrowed grant, a revoked token that stays accepted for at most cacheMs, an
 * expired, an unknown and a refresh token, a token for another resource, wrong credentials, the
 * RFC 6750 challenges, and an authorization server that goes away and comes back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { BearerError, createVerifier, type Principal, type Verifier } from '../../packages/resource-server/src/index.js';
import { sqliteTarget, storageTargets } from '../support/database.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedClient, seedOrganization, seedUser } from '../support/seed.js';
import { freePort, startTestServer, type TestServer } from '../support/server.js';
import { UserAgent, type ConsentChoice } from '../support/user-agent.js';

const REDIRECT_URI = 'http://127.0.0.1:7777/callback';
const OTHER_RESOURCE = 'https://mcp.example/mcp';
const HOUR = 3_600_000;

/** A confidential client, a signed-in user, and a way to get that user's tokens for the client. */
async function tokenSource(server: TestServer) {
  const user = await seedUser(server.ctx);
  const { organization } = await seedOrganization(server.ctx, user.id, 'Acme', ['Web']);
  const { client, clientSecret } = await seedClient(server.ctx, { redirectUris: [REDIRECT_URI] });
  const app = await TestOAuthClient.discover(server.url, { clientId: client.id, clientSecret, redirectUri: REDIRECT_URI });
  const agent = new UserAgent(server.url);
  await agent.signIn(user.email, PASSWORD);
  return {
    user,
    organizationId: organization.id,
    credentials: { clientId: client.id, clientSecret: clientSecret! },
    app,
    async issue(scope = 'project:read user:read', extra: Record<string, string> = {}, choice: ConsentChoice = {}) {
      const { url, codeVerifier, state } = await app.authorizationUrl(scope, { prompt: 'consent', ...extra });
      return app.exchange(await agent.authorize(url.href, choice), codeVerifier, state);
    },
  };
}

/** The verifier's refusal: a BearerError with this status and code. */
const refused = (status: number, code: string, description?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof BearerError, String(error));
  assert.equal(error.status, status);
  assert.equal(error.code, code);
  if (description) assert.match(error.description, description);
  return true;
};

for (const target of storageTargets()) {
  describe(`resource-server verifier, introspection (${target.name})`, () => {
    let server: TestServer;
    let source: Awaited<ReturnType<typeof tokenSource>>;
    let verifier: Verifier;
    let resource: string;

    before(async () => {
      server = await startTestServer(target, { TESSERA_RESOURCES: OTHER_RESOURCE });
      source = await tokenSource(server);
      resource = `${server.url}/api`;
      verifier = createVerifier({ issuer: server.url, resource, introspection: source.credentials });
    });
    after(() => server.close());

    it('gives the principal of a valid token, bound to the resource or not', async () => {
      const bound = await source.issue('project:read user:read', { resource });
      const principal = await verifier.verify(`Bearer ${bound.access_token}`);
      const { expiresAt, ...rest } = principal;
      assert.deepEqual(rest, { sub: source.user.id, clientId: source.credentials.clientId, scopes: ['project:read', 'user:read'], accessLevel: 'all', organizationIds: [], projectIds: [] } satisfies Omit<Principal, 'expiresAt'>);
      assert.ok(Math.abs(expiresAt - (server.ctx.now() + HOUR)) < 5_000);

      const unbound = await source.issue();
      assert.equal((await verifier.verifyToken(unbound.access_token)).sub, source.user.id);
    });

    it('carries the narrowing of the grant', async () => {
      const narrowed = await source.issue('organization:read', {}, { access_level: 'organization', organization_ids: [source.organizationId] });
      const principal = await verifier.verifyToken(narrowed.access_token);
      assert.equal(principal.accessLevel, 'organization');
      assert.deepEqual(principal.organizationIds, [source.organizationId]);
    });

    it('keeps accepting a revoked token for at most cacheMs, then refuses it', async () => {
      const cacheMs = 1500;
      const caching = createVerifier({ issuer: server.url, resource, introspection: source.credentials, cacheMs });
      const tokens = await source.issue();
      await caching.verifyToken(tokens.access_token);
      const checkedAt = Date.now();
      await source.app.revoke(tokens.refresh_token!);
      if (Date.now() - checkedAt < cacheMs - 200) assert.equal((await caching.verifyToken(tokens.access_token)).sub, source.user.id, 'the cached answer');
      await sleep(cacheMs - (Date.now() - checkedAt) + 50);
      await assert.rejects(caching.verifyToken(tokens.access_token), refused(401, 'invalid_token', /invalid, expired or revoked/));
      // A verifier without a cached answer refuses it at once.
      await assert.rejects(verifier.verifyToken(tokens.access_token), refused(401, 'invalid_token'));
    });

    it('refuses an expired, an unknown and a refresh token, and one for another resource', async () => {
      const tokens = await source.issue();
      const foreign = await source.issue('project:read', { resource: OTHER_RESOURCE });
      await assert.rejects(verifier.verifyToken(`pha_${'x'.repeat(60)}`), refused(401, 'invalid_token', /invalid, expired or revoked/));
      await assert.rejects(verifier.verifyToken(tokens.refresh_token!), refused(401, 'invalid_token', /not an access token/));
      await assert.rejects(verifier.verifyToken(foreign.access_token), refused(401, 'invalid_token', /another resource/));
      // For the resource it was issued to, the same token is fine.
      const forOther = createVerifier({ issuer: server.url, resource: OTHER_RESOURCE, introspection: source.credentials });
      assert.equal((await forOther.verifyToken(foreign.access_token)).sub, source.user.id);

      server.advance(HOUR + 60_000);
      try {
        await assert.rejects(verifier.verifyToken(tokens.access_token), refused(401, 'invalid_token'));
      } finally {
        server.advance(-(HOUR + 60_000));
      }
    });

    it('refuses another client\'s token: today a client may introspect only its own', async () => {
      const other = await tokenSource(server);
      const tokens = await other.issue();
      await assert.rejects(verifier.verifyToken(tokens.access_token), refused(401, 'invalid_token'));
    });

    it('answers 500, not invalid_token, when its introspection credentials are refused', async () => {
      const wrong = createVerifier({ issuer: server.url, resource, introspection: { ...source.credentials, clientSecret: 'pcs_wrong' } });
      const tokens = await source.issue();
      await assert.rejects(wrong.verifyToken(tokens.access_token), refused(500, 'server_error', /refused this resource server \(introspection: HTTP 401 invalid_client\)/));
    });

    it('answers RFC 6750 challenges that point to the resource metadata (RFC 9728)', async () => {
      const metadata = `${server.url}/.well-known/oauth-protected-resource/api`;
      assert.equal(verifier.resourceMetadataUrl, metadata);
      await assert.rejects(verifier.verify(undefined), (error: BearerError) => {
        assert.equal(error.status, 401);
        assert.equal(error.headers['www-authenticate'], `Bearer resource_metadata="${metadata}"`);
        return true;
      });
      await assert.rejects(verifier.verify('Basic abc'), (error: BearerError) => error.status === 400 && error.code === 'invalid_request' && error.headers['www-authenticate']!.includes('error="invalid_request"'));
      await assert.rejects(verifier.verify('Bearer pha_unknown'), (error: BearerError) => {
        assert.equal(error.headers['www-authenticate'], `Bearer resource_metadata="${metadata}", error="invalid_token", error_description="the access token is invalid, expired or revoked"`);
        assert.deepEqual(error.toJSON(), { error: 'invalid_token', error_description: 'the access token is invalid, expired or revoked' });
        return true;
      });

      const principal = await verifier.verifyToken((await source.issue('project:write')).access_token);
      verifier.requireScopes(principal, 'project:read');
      assert.throws(() => verifier.requireScopes(principal, ['project:read', 'annotation:read']), (error: BearerError) => {
        assert.equal(error.status, 403);
        assert.equal(error.code, 'insufficient_scope');
        assert.match(error.headers['www-authenticate']!, /error="insufficient_scope", error_description="this request needs the annotation:read scope", scope="project:read annotation:read"$/);
        return true;
      });
      assert.deepEqual(verifier.protectedResourceMetadata({ scopes_supported: ['project:read'] }), { resource, authorization_servers: [server.url], bearer_methods_supported: ['header'], scopes_supported: ['project:read'] });
    });
  });
}

describe('resource-server verifier while the authorization server is away', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-outage-'));
  let server: TestServer | undefined;
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Tessera on a fixed port and database file, as a restarted deployment would be. */
  const start = (port: number) => startTestServer(sqliteTarget, { PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'tessera.sqlite')}` });

  it('answers 503 temporarily_unavailable, never invalid_token, and recovers by itself', async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const unavailable = (step: string) => (error: unknown) => {
      refused(503, 'temporarily_unavailable', new RegExp(`cannot be reached \\(${step}: the connection failed\\)`))(error);
      assert.equal((error as BearerError).headers['www-authenticate'], undefined);
      return true;
    };

    // Down before the verifier ever reached it: discovery fails, and is tried again on the next request.
    const early = createVerifier({ issuer, resource: `${issuer}/api` });
    await assert.rejects(early.verifyToken('pha_whatever'), unavailable('discovery'));

    server = await start(port);
    const source = await tokenSource(server);
    const verifier = createVerifier({ issuer, resource: `${issuer}/api`, introspection: source.credentials });
    const [first, second] = [await source.issue(), await source.issue()];
    assert.equal((await verifier.verifyToken(first.access_token)).sub, source.user.id);
    await assert.rejects(early.verifyToken('pha_whatever'), refused(401, 'invalid_token', /only JWT access tokens/), 'discovery was tried again');

    // Down after discovery: a token it holds no answer for cannot be checked.
    await server.close();
    server = undefined;
    await assert.rejects(verifier.verifyToken(second.access_token), unavailable('introspection'));

    // Back: the same token is checked as if nothing happened.
    server = await start(port);
    assert.equal((await verifier.verifyToken(second.access_token)).sub, source.user.id);
  });
});
