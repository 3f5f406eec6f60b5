/**
 * Dynamic Client Registration (RFC 7591) over HTTP: public and confidential registrations, every
 * refusal, the registered clients completing the code flow with oauth4webapi, secrets stored only
 * as hashes, and the per-IP rate limit — on every storage target.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { listAudit } from '../../packages/server/src/core/audit.js';
import { hashToken } from '../../packages/server/src/core/crypto/token-formats.js';
import { sqliteTarget, storageTargets } from '../support/database.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://127.0.0.1:7777/callback';

interface Registered {
  client_id: string;
  client_secret?: string;
  client_id_issued_at: number;
  client_secret_expires_at: number;
  token_endpoint_auth_method: string;
  [field: string]: unknown;
}

function register(server: TestServer, body: unknown, contentType = 'application/json'): Promise<Response> {
  return fetch(`${server.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function registered(server: TestServer, body: Record<string, unknown>): Promise<Registered> {
  const response = await register(server, body);
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()) as Registered;
}

for (const target of storageTargets()) {
  describe(`dynamic client registration (${target.name})`, () => {
    let server: TestServer;
    let agent: UserAgent;

    before(async () => {
      server = await startTestServer(target);
      const { email } = await seedUser(server.ctx);
      agent = new UserAgent(server.url);
      await agent.signIn(email, PASSWORD);
    });
    after(() => server.close());

    it('announces the registration endpoint in discovery', async () => {
      const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.equal(metadata.registration_endpoint, `${server.url}/oauth/register`);
    });

    it('registers a public client, which completes the code flow and refreshes', async () => {
      const before = Math.floor(Date.now() / 1000);
      const response = await register(server, {
        client_name: 'Notebook Sync',
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: 'project:read annotation:write',
        logo_uri: 'https://app.example.com/logo.png',
        software_id: 'ignored',
      });
      assert.equal(response.status, 201);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      const body = (await response.json()) as Registered;
      const { client_id, client_id_issued_at, ...rest } = body;
      assert.match(client_id, /^pca_/);
      assert.ok(client_id_issued_at >= before && client_id_issued_at <= Math.ceil(Date.now() / 1000));
      assert.deepEqual(rest, {
        client_secret_expires_at: 0,
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'Notebook Sync',
        scope: 'project:read annotation:write',
        logo_uri: 'https://app.example.com/logo.png',
      });

      const row = await server.db.selectFrom('clients').selectAll().where('id', '=', client_id).executeTakeFirstOrThrow();
      assert.equal(row.kind, 'dynamic');
      assert.equal(row.is_public, 1);
      assert.equal(row.secret_hash, null);
      assert.equal(row.verified, 0);
      assert.equal(row.scope_ceiling, 'project:read annotation:write');

      const app = await TestOAuthClient.discover(server.url, { clientId: client_id, redirectUri: REDIRECT });
      const { url, codeVerifier, state } = await app.authorizationUrl('project:read');
      assert.match(await (await agent.request(url.href)).text(), /Notebook Sync wants to access/);
      const tokens = await app.exchange(await agent.authorize(url.href), codeVerifier, state);
      assert.match(tokens.access_token, /^pha_/);
      assert.match(tokens.refresh_token!, /^phr_/);
      const refreshed = await app.refresh(tokens.refresh_token!);
      const introspection = await app.introspect(refreshed.access_token);
      assert.equal(introspection.active, true);
      assert.equal(introspection.client_id, client_id);

      // The registered scope is the client's ceiling.
      const beyond = await app.authorizationUrl('query:write');
      const refused = await agent.request(beyond.url.href);
      assert.equal(new URL(refused.headers.get('location')!).searchParams.get('error'), 'invalid_scope');
    });

    for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
      it(`registers a confidential client (${method}) whose secret is returned once and stored hashed`, async () => {
        const body = await registered(server, {
          client_name: `Reporting (${method})`,
          redirect_uris: [REDIRECT],
          token_endpoint_auth_method: method,
          id_token_signed_response_alg: 'ES256',
        });
        assert.equal(body.token_endpoint_auth_method, method);
        assert.equal(body.client_secret_expires_at, 0);
        assert.equal(body.id_token_signed_response_alg, 'ES256');
        assert.deepEqual(body.grant_types, ['authorization_code', 'refresh_token']);
        assert.equal(body.scope, undefined, 'no ceiling registered');
        const secret = body.client_secret!;
        assert.match(secret, /^pcs_/);

        const row = await server.db.selectFrom('clients').selectAll().where('id', '=', body.client_id).executeTakeFirstOrThrow();
        assert.equal(row.is_public, 0);
        assert.equal(row.secret_hash, hashToken(secret));
        assert.equal(row.id_token_signed_response_alg, 'ES256');
        assert.equal(row.token_endpoint_auth_method, method);
        assert.ok(!JSON.stringify(row).includes(secret.slice(4)), 'the secret itself is nowhere in the row');
        const audit = await listAudit(server.ctx.store, { clientId: body.client_id });
        assert.deepEqual(audit.map((event) => event.type), ['client.registered']);
        assert.ok(!audit[0]!.detail.includes(secret.slice(4)), 'the secret is not in the audit trail');

        const app = await TestOAuthClient.discover(server.url, { clientId: body.client_id, redirectUri: REDIRECT });
        const auth = method === 'client_secret_basic' ? oauth.ClientSecretBasic(secret) : oauth.ClientSecretPost(secret);
        const exchange = async (clientAuth: oauth.ClientAuth) => {
          const { url, codeVerifier, state } = await app.authorizationUrl('project:read');
          const params = oauth.validateAuthResponse(app.as, app.client, await agent.authorize(url.href), state);
          const response = await oauth.authorizationCodeGrantRequest(app.as, app.client, clientAuth, params, REDIRECT, codeVerifier, { [oauth.allowInsecureRequests]: true });
          return oauth.processAuthorizationCodeResponse(app.as, app.client, response);
        };
        assert.match((await exchange(auth)).access_token, /^pha_/);
        const unauthenticated = (error: unknown) => error instanceof oauth.WWWAuthenticateChallengeError && error.status === 401;
        await assert.rejects(exchange(method === 'client_secret_basic' ? oauth.ClientSecretBasic('pcs_wrong') : oauth.ClientSecretPost('pcs_wrong')), unauthenticated);
        await assert.rejects(exchange(oauth.None()), unauthenticated);
        // The right secret by the method it did not register is refused too (RFC 7591 §2).
        await assert.rejects(exchange(method === 'client_secret_basic' ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret)), unauthenticated);
      });
    }

    it('registers a client for the device grant alone (no response types, no redirect URIs) and lets it ask for a device code', async () => {
      const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
      const body = await registered(server, { client_name: 'Hog TV', token_endpoint_auth_method: 'none', grant_types: [deviceGrant, 'refresh_token'] });
      assert.deepEqual(body.grant_types, [deviceGrant, 'refresh_token']);
      assert.deepEqual(body.response_types, []);
      assert.deepEqual(body.redirect_uris, []);
      // With the code flow, redirect URIs are still required (RFC 7591 §2).
      const withCodeFlow = await register(server, { client_name: 'Hog TV', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', deviceGrant] });
      assert.equal(withCodeFlow.status, 400);
      assert.deepEqual(await withCodeFlow.json(), { error: 'invalid_client_metadata', error_description: 'redirect_uris is required for the authorization_code grant' });
      // Redirect URIs it lists anyway get no authorization code: it could not redeem one.
      const listed = await registered(server, { client_name: 'Hog TV', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: [deviceGrant] });
      const authorize = new URL('/oauth/authorize', server.url);
      authorize.search = new URLSearchParams({ response_type: 'code', client_id: listed.client_id, redirect_uri: REDIRECT, scope: 'project:read', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
      const refusedCode = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
      assert.equal(refusedCode.searchParams.get('error'), 'unauthorized_client');
      const response = await fetch(`${server.url}/oauth/device_authorization`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: body.client_id, scope: 'project:read' }),
      });
      assert.equal(response.status, 200);
      assert.match(((await response.json()) as { user_code: string }).user_code, /^[A-Z]{4}-[A-Z]{4}$/);
      const onlyRefresh = await register(server, { client_name: 'Refresh', redirect_uris: [REDIRECT], grant_types: ['refresh_token'] });
      assert.match(((await onlyRefresh.json()) as { error_description: string }).error_description, /must include authorization_code or urn:ietf:params:oauth:grant-type:device_code/);
    });

    it('holds a client to the grant types it registered: no refresh token without refresh_token, unauthorized_client for the grant', async () => {
      const body = await registered(server, { client_name: 'Code Only', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] });
      assert.deepEqual(body.grant_types, ['authorization_code']);
      const row = await server.db.selectFrom('clients').select('grant_types').where('id', '=', body.client_id).executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(row.grant_types), ['authorization_code']);

      const app = await TestOAuthClient.discover(server.url, { clientId: body.client_id, redirectUri: REDIRECT });
      const { url, codeVerifier, state } = await app.authorizationUrl('project:read');
      const tokens = await app.exchange(await agent.authorize(url.href), codeVerifier, state);
      assert.match(tokens.access_token, /^pha_/);
      assert.equal(tokens.refresh_token, undefined);

      const response = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'phr_anything', client_id: body.client_id }),
      });
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), { error: 'unauthorized_client', error_description: 'this client is not registered for the refresh_token grant' });
      const discovery = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.deepEqual(discovery.grant_types_supported, ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']);
    });

    it('defaults to client_secret_basic (RFC 7591 §2)', async () => {
      const body = await registered(server, { client_name: 'Defaults', redirect_uris: ['https://app.example.com/cb', 'com.example.app:/cb'] });
      assert.equal(body.token_endpoint_auth_method, 'client_secret_basic');
      assert.match(body.client_secret!, /^pcs_/);
      assert.deepEqual(body.response_types, ['code']);
      assert.deepEqual(body.grant_types, ['authorization_code', 'refresh_token'], 'refresh tokens unless the client registers without them');
      assert.deepEqual(body.redirect_uris, ['https://app.example.com/cb', 'com.example.app:/cb']);
    });

    it('refuses bad redirect URIs with invalid_redirect_uri and other bad metadata with invalid_client_metadata', async () => {
      const valid = { client_name: 'Notebook Sync', redirect_uris: [REDIRECT] };
      const cases: Array<[unknown, string]> = [
        [{ ...valid, redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
        [{ ...valid, redirect_uris: ['data:text/html,hi'] }, 'invalid_redirect_uri'],
        [{ ...valid, redirect_uris: ['file:///etc/passwd'] }, 'invalid_redirect_uri'],
        [{ ...valid, redirect_uris: ['vbscript:x'] }, 'invalid_redirect_uri'],
        [{ ...valid, redirect_uris: ['http://app.example.com/cb'] }, 'invalid_redirect_uri'],
        [{ ...valid, redirect_uris: ['https://app.example.com/cb#frag'] }, 'invalid_redirect_uri'],
        [{ ...valid, redirect_uris: ['/cb'] }, 'invalid_redirect_uri'],
        [{ ...valid, redirect_uris: ['myapp:/cb'] }, 'invalid_redirect_uri'],
        [{ client_name: 'No URIs' }, 'invalid_client_metadata'],
        [{ ...valid, redirect_uris: [] }, 'invalid_client_metadata'],
        [{ ...valid, redirect_uris: REDIRECT }, 'invalid_client_metadata'],
        [{ ...valid, grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
        [{ ...valid, grant_types: ['implicit'] }, 'invalid_client_metadata'],
        [{ ...valid, response_types: ['token'] }, 'invalid_client_metadata'],
        [{ ...valid, token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
        [{ ...valid, client_name: 'Tessera Official' }, 'invalid_client_metadata'],
        [{ ...valid, client_name: 'tessera companion' }, 'invalid_client_metadata'],
        [{ ...valid, client_name: 'Verified Exports' }, 'invalid_client_metadata'],
        [{ ...valid, client_name: 7 }, 'invalid_client_metadata'],
        [{ redirect_uris: [REDIRECT] }, 'invalid_client_metadata'],
        [{ ...valid, scope: 'project:read everything:admin' }, 'invalid_client_metadata'],
        [{ ...valid, logo_uri: 'http://app.example.com/logo.png' }, 'invalid_client_metadata'],
        [{ ...valid, id_token_signed_response_alg: 'HS256' }, 'invalid_client_metadata'],
        [[REDIRECT], 'invalid_client_metadata'],
        ['"a string"', 'invalid_client_metadata'],
      ];
      const clientsBefore = await server.db.selectFrom('clients').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      for (const [body, error] of cases) {
        const response = await register(server, body);
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.equal(response.headers.get('cache-control'), 'no-store');
        const answer = (await response.json()) as { error: string; error_description: string };
        assert.equal(answer.error, error, JSON.stringify(body));
        assert.ok(answer.error_description.length > 10, answer.error_description);
      }
      const clientsAfter = await server.db.selectFrom('clients').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(clientsAfter.n), Number(clientsBefore.n), 'nothing was stored');
    });

    it('refuses a body that is not JSON with invalid_request', async () => {
      const form = await register(server, `client_name=x&redirect_uris=${encodeURIComponent(REDIRECT)}`, 'application/x-www-form-urlencoded');
      assert.equal(form.status, 415);
      assert.equal(((await form.json()) as { error: string }).error, 'invalid_request');
      const malformed = await register(server, '{"client_name": ', 'application/json');
      assert.equal(malformed.status, 400);
      assert.equal(((await malformed.json()) as { error: string }).error, 'invalid_request');
    });

    it('answers browsers from any origin', async () => {
      const preflight = await fetch(`${server.url}/oauth/register`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    });
  });
}

// Rate limits live in the HTTP layer, whatever the storage; a second server on one PostgreSQL
// database would share its migration bookkeeping with the first.
describe('dynamic client registration rate limit', () => {
  it('limits registrations per IP', async () => {
    const limited = await startTestServer(sqliteTarget, { TESSERA_RATE_LIMITS: 'true', TESSERA_RATE_LIMIT_REGISTER: '2' });
    try {
      const body = { client_name: 'Burst', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' };
      assert.equal((await register(limited, body)).status, 201);
      assert.equal((await register(limited, body)).status, 201);
      const third = await register(limited, body);
      assert.equal(third.status, 429);
      assert.equal(((await third.json()) as { error: string }).error, 'too_many_requests');
    } finally {
      await limited.close();
    }
  });
});
