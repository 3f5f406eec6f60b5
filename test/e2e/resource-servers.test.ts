/**
 * Registered resource servers (issue 17) through real HTTP: `tessera resource create|list|show|
 * rotate-secret|delete`, introspection with a resource server's own credentials (its tokens only,
 * RFC 7662 §4), JWT access tokens (RFC 9068) that verify against the JWKS and behave like opaque
 * tokens at introspection, revocation and secret scanning, the consent page naming the resource,
 * and deletion that refuses new tokens and stops existing ones — on every storage target.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createResourceServer, deleteResourceServer } from '../../packages/server/src/core/resources/registered.js';
import { sqliteTarget, storageTargets } from '../support/database.js';
import { tesseraCli } from '../support/cli.js';
import { basicAuth, TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedClient, seedOrganization, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT_URI = 'http://127.0.0.1:7777/callback';

async function introspectAs(server: TestServer, credentials: { clientId: string; clientSecret: string }, token: string) {
  const response = await fetch(`${server.url}/oauth/introspect`, {
    method: 'POST',
    headers: { authorization: basicAuth(credentials.clientId, credentials.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function register(server: TestServer, uri: string, options: { tokenFormat?: 'opaque' | 'jwt'; accessTokenTtl?: number; platformApiAccess?: boolean } = {}) {
  const { resource, clientSecret } = await createResourceServer(server.ctx, {
    uri,
    name: `Service at ${new URL(uri).host}`,
    tokenFormat: options.tokenFormat ?? 'opaque',
    accessTokenTtl: options.accessTokenTtl ?? null,
    platformApiAccess: options.platformApiAccess ?? false,
  });
  return { resource, credentials: { clientId: resource.client_id, clientSecret } };
}

for (const target of storageTargets()) {
  describe(`registered resource servers (${target.name})`, () => {
    let server: TestServer;
    let app: TestOAuthClient;
    let agent: UserAgent;
    let userId: string;
    let organizationId: string;

    before(async () => {
      server = await startTestServer(target);
      const user = await seedUser(server.ctx);
      userId = user.id;
      organizationId = (await seedOrganization(server.ctx, user.id, 'Acme', ['Web'])).organization.id;
      const { client, clientSecret } = await seedClient(server.ctx, { redirectUris: [REDIRECT_URI] });
      app = await TestOAuthClient.discover(server.url, { clientId: client.id, clientSecret, redirectUri: REDIRECT_URI });
      agent = new UserAgent(server.url);
      await agent.signIn(user.email, PASSWORD);
    });
    after(() => server.close());

    async function issue(resource: string | undefined, scope = 'project:read') {
      const { url, codeVerifier, state } = await app.authorizationUrl(scope, { prompt: 'consent', ...(resource ? { resource } : {}) });
      return app.exchange(await agent.authorize(url.href), codeVerifier, state);
    }

    it('lets a resource server introspect the tokens for its resource, and only those', async () => {
      const mine = await register(server, 'https://notes.example/api');
      const other = await register(server, 'https://other.example/api');
      const tokens = await issue(mine.resource.uri, 'project:read user:read');
      assert.match(tokens.access_token, /^pha_/);

      const { status, body } = await introspectAs(server, mine.credentials, tokens.access_token);
      assert.equal(status, 200);
      const { exp, iat, ...rest } = body;
      assert.deepEqual(rest, {
        active: true, scope: 'project:read user:read', client_id: app.options.clientId, sub: userId, iss: server.url, token_type: 'Bearer',
        aud: mine.resource.uri, access_level: 'all', scoped_organizations: [], scoped_projects: [],
      });
      assert.ok(exp > iat);

      // RFC 7662 §4: anything not for its resource is inactive, as is the refresh token (the client's, not the resource's).
      assert.deepEqual((await introspectAs(server, other.credentials, tokens.access_token)).body, { active: false });
      assert.deepEqual((await introspectAs(server, mine.credentials, tokens.refresh_token!)).body, { active: false });
      assert.deepEqual((await introspectAs(server, mine.credentials, (await issue(undefined)).access_token)).body, { active: false });
      // The client keeps seeing its own token.
      assert.equal((await app.introspect(tokens.access_token)).active, true);

      const wrong = await introspectAs(server, { ...mine.credentials, clientSecret: 'prss_wrong' }, tokens.access_token);
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error, 'invalid_client');
    });

    it('names the resource on the consent page when it is not the platform API', async () => {
      const { resource } = await register(server, 'https://mcp.example.com/mcp');
      const { url } = await app.authorizationUrl('project:read', { prompt: 'consent', resource: resource.uri });
      const page = await (await agent.request(url.pathname + url.search)).text();
      assert.match(page, /Access for <strong>Service at mcp\.example\.com<\/strong> at <strong class="host">mcp\.example\.com<\/strong>/);
      const { url: apiUrl } = await app.authorizationUrl('project:read', { prompt: 'consent', resource: `${server.url}/api` });
      assert.doesNotMatch(await (await agent.request(apiUrl.pathname + apiUrl.search)).text(), /Access for/);
    });

    it('issues RFC 9068 JWT access tokens for a jwt resource, checked like opaque ones', async () => {
      const { resource, credentials } = await register(server, 'https://jwt.example/api', { tokenFormat: 'jwt' });
      const tokens = await issue(resource.uri, 'organization:read');
      assert.equal(tokens.expires_in, 300, 'a short default lifetime');
      assert.match(tokens.refresh_token!, /^phr_/);
      const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: server.url, audience: resource.uri, typ: 'at+jwt' });
      assert.equal(protectedHeader.alg, 'RS256');
      assert.deepEqual(
        { sub: payload.sub, client_id: payload.client_id, scope: payload.scope, access_level: payload.access_level, scoped_organizations: payload.scoped_organizations, scoped_projects: payload.scoped_projects },
        { sub: userId, client_id: app.options.clientId, scope: 'organization:read', access_level: 'all', scoped_organizations: [], scoped_projects: [] },
      );
      assert.equal(payload.exp! - payload.iat!, 300);
      for (const claim of ['jti', 'auth_time']) assert.ok(payload[claim] !== undefined, claim);

      const introspected = await introspectAs(server, credentials, tokens.access_token);
      assert.equal(introspected.body.active, true);
      assert.equal(introspected.body.aud, resource.uri);
      assert.equal((await app.introspect(tokens.access_token)).active, true);

      // Refresh: a new JWT, the refresh token rotates.
      const refreshed = await app.refresh(tokens.refresh_token!);
      assert.equal(decodeProtectedHeader(refreshed.access_token).typ, 'at+jwt');
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token);

      // Revoking the family stops refreshes at once, and introspection says so.
      await app.revoke(refreshed.refresh_token!);
      await assert.rejects(app.refresh(refreshed.refresh_token!));
      assert.deepEqual((await introspectAs(server, credentials, refreshed.access_token)).body, { active: false });

      // A forged JWT with a known jti is not ours: its hash differs.
      const [header, body] = refreshed.access_token.split('.');
      assert.deepEqual((await app.introspect(`${header}.${body}.AAAA`)).active, false);
    });

    it('takes a per-resource lifetime', async () => {
      const { resource } = await register(server, 'https://short.example/api', { tokenFormat: 'jwt', accessTokenTtl: 60 });
      assert.equal((await issue(resource.uri)).expires_in, 60);
      const opaque = await register(server, 'https://opaque-ttl.example/api', { accessTokenTtl: 120 });
      assert.equal((await issue(opaque.resource.uri)).expires_in, 120);
    });

    it('accepts JWT access tokens at the platform API only for a resource registered with platform API access', async () => {
      const forwarding = await register(server, 'https://first-party.example/mcp', { tokenFormat: 'jwt', platformApiAccess: true });
      const partner = await register(server, 'https://partner.example/api', { tokenFormat: 'jwt' });
      const call = async (token: string) => (await fetch(`${server.url}/api/organizations/${organizationId}`, { headers: { authorization: `Bearer ${token}` } })).status;
      assert.equal(await call((await issue(forwarding.resource.uri, 'organization:read')).access_token), 200);
      assert.equal(await call((await issue(partner.resource.uri, 'organization:read')).access_token), 401);
    });

    it('deleting a resource server refuses new tokens for it and stops its existing ones', async () => {
      const { resource, credentials } = await register(server, 'https://gone.example/api');
      const tokens = await issue(resource.uri);
      await deleteResourceServer(server.ctx, resource.id);
      assert.equal((await app.introspect(tokens.access_token)).active, false);
      await assert.rejects(app.refresh(tokens.refresh_token!));
      assert.equal((await introspectAs(server, credentials, tokens.access_token)).status, 401, 'its credentials are gone too');
      const { url } = await app.authorizationUrl('project:read', { resource: resource.uri });
      const callback = await agent.authorize(url.href);
      assert.equal(callback.searchParams.get('error'), 'invalid_target');
    });
  });
}

describe('tessera resource (CLI)', () => {
  let server: TestServer;
  let tessera: ReturnType<typeof tesseraCli>;
  before(async () => {
    server = await startTestServer(sqliteTarget);
    tessera = tesseraCli({ databaseUrl: server.config.databaseUrl, env: { TESSERA_ISSUER: server.url } });
  });
  after(() => server.close());

  it('creates, lists, shows, rotates and deletes, auditing each change', async () => {
    const created = await tessera('resource', 'create', '--uri', 'https://mcp.example.com/mcp', '--name', 'Acme MCP', '--token-format', 'jwt', '--json');
    assert.equal(created.status, 0, created.stderr);
    const data = created.json();
    assert.match(data.client_id, /^prs_/);
    assert.match(data.client_secret, /^prss_/);
    assert.equal(data.token_format, 'jwt');
    assert.equal(data.access_token_ttl, 300);
    const row = await server.db.selectFrom('resource_servers').selectAll().where('id', '=', data.id).executeTakeFirstOrThrow();
    assert.notEqual(row.secret_hash, data.client_secret, 'stored hashed');

    const human = await tessera('resource', 'create', '--uri', 'https://partner.example/api', '--name', 'Partner');
    assert.match(human.stdout, /client_secret: prss_\S+ {2}\(shown once; store it now\)/);
    assert.equal((await tessera('resource', 'create', '--uri', 'https://partner.example/api', '--name', 'Again')).status, 2, 'a URI is registered once');
    assert.equal((await tessera('resource', 'create', '--uri', `${server.url}/api`, '--name', 'API')).status, 2, 'not the platform API');
    assert.equal((await tessera('resource', 'create', '--uri', 'https://x.example/#frag', '--name', 'X')).status, 2);
    assert.equal((await tessera('resource', 'create', '--uri', 'http://x.example/', '--name', 'X')).status, 2);
    assert.equal((await tessera('resource', 'create', '--uri', 'https://x.example/', '--name', 'X', '--access-token-ttl', '0')).status, 2);

    const listed = (await tessera('resource', 'list', '--json')).json();
    assert.deepEqual(listed.resources.map((r: { uri: string }) => r.uri), ['https://mcp.example.com/mcp', 'https://partner.example/api']);
    assert.ok(listed.resources.every((r: Record<string, unknown>) => !('client_secret' in r)));
    const shown = (await tessera('resource', 'show', 'https://mcp.example.com/mcp', '--json')).json();
    assert.equal(shown.id, data.id);

    const rotated = (await tessera('resource', 'rotate-secret', data.client_id, '--json')).json();
    assert.notEqual(rotated.client_secret, data.client_secret);
    const deleted = (await tessera('resource', 'delete', data.id, '--json')).json();
    assert.equal(deleted.deleted, true);
    assert.equal((await tessera('resource', 'show', data.id)).status, 2);

    const events = await server.db.selectFrom('audit_events').select('type').where('type', 'like', 'resource_server.%').orderBy('at').execute();
    assert.deepEqual(events.map((event) => event.type), ['resource_server.created', 'resource_server.created', 'resource_server.secret_rotated', 'resource_server.deleted']);
  });
});
