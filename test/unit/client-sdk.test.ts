/**
 * The client SDK against a fake Tessera behind a fake fetch: PKCE and state, callback validation,
 * single-flight refresh (proactive and on 401), retry once, signing out on invalid_grant,
 * scope-aware discovery with per-resource failures, revocation.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { InvalidResponseError, MemoryTokenStore, SignedOutError, TesseraClient, TesseraError, type StoredTokens } from '../../src/sdk/index.js';

const ISSUER = 'https://tessera.example';
const REDIRECT_URI = 'com.example.app:/callback';
const NOW = Date.parse('2026-04-18T12:00:00Z');
const MINUTE = 60_000;

type Handler = (request: Request) => Response | Promise<Response>;
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A fake Tessera: discovery, a rotating token endpoint, and an API that accepts only the current access token. */
function fakeTessera(routes: Record<string, Handler> = {}) {
  const state = { generation: 1, access: 'pha_1', refresh: 'phr_1' };
  const requests: { path: string; authorization: string | null; form: URLSearchParams | undefined }[] = [];
  const issue = () => json({ access_token: state.access, token_type: 'Bearer', expires_in: 3600, refresh_token: state.refresh, scope: 'openid project:read', access_level: 'organization', scoped_organizations: ['org_a', 'org_b'], scoped_projects: [] });
  const defaults: Record<string, Handler> = {
    '/.well-known/oauth-authorization-server': () =>
      json({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/oauth/authorize`, token_endpoint: `${ISSUER}/oauth/token`, revocation_endpoint: `${ISSUER}/oauth/revoke`, userinfo_endpoint: `${ISSUER}/oauth/userinfo`, code_challenge_methods_supported: ['S256'], authorization_response_iss_parameter_supported: true }),
    '/oauth/token': async (request) => {
      const form = new URLSearchParams(await request.text());
      await new Promise((resolve) => setTimeout(resolve, 10)); // lets concurrent callers overlap
      if (form.get('grant_type') === 'authorization_code') return issue();
      if (form.get('refresh_token') !== state.refresh) return json({ error: 'invalid_grant', error_description: 'the refresh token is invalid, expired or revoked' }, 400);
      state.generation += 1;
      state.access = `pha_${state.generation}`;
      state.refresh = `phr_${state.generation}`;
      return issue();
    },
    '/oauth/revoke': () => new Response(null, { status: 200 }),
  };
  const http: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    const form = request.headers.get('content-type')?.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(await request.clone().text()) : undefined;
    requests.push({ path, authorization: request.headers.get('authorization'), form });
    const handler = routes[path] ?? defaults[path];
    if (handler) return handler(request);
    return request.headers.get('authorization') === `Bearer ${state.access}` ? json({ path }) : json({ error: 'invalid_token' }, 401);
  };
  return { http, state, requests, count: (path: string) => requests.filter((r) => r.path === path).length };
}

async function clientFor(fake: ReturnType<typeof fakeTessera>, options: { clientSecret?: string; tokens?: Partial<StoredTokens> } = {}) {
  const store = new MemoryTokenStore();
  if (options.tokens) {
    await store.set({ accessToken: fake.state.access, refreshToken: fake.state.refresh, expiresAt: NOW + 60 * MINUTE, scope: 'openid project:read', accessLevel: 'all', scopedOrganizations: [], scopedProjects: [], ...options.tokens });
  }
  const client = await TesseraClient.discover({ issuer: ISSUER, clientId: 'pca_app', clientSecret: options.clientSecret, redirectUri: REDIRECT_URI, store, fetch: fake.http, now: () => NOW });
  return { client, store };
}

describe('client SDK: authorization request', () => {
  it('uses PKCE S256 with a random 32-byte verifier and a random state', async () => {
    const { client } = await clientFor(fakeTessera());
    const first = await client.authorizationUrl({ scope: 'openid project:read', required_access_level: 'project', project: 'prj_1', prompt: 'consent' });
    const second = await client.authorizationUrl({ scope: 'openid project:read' });
    assert.match(first.codeVerifier, /^[A-Za-z0-9_-]{43}$/);
    assert.match(first.state, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(first.codeVerifier, second.codeVerifier);
    assert.notEqual(first.state, second.state);
    assert.notEqual(first.state, first.codeVerifier);

    const url = new URL(first.url);
    assert.equal(url.origin + url.pathname, `${ISSUER}/oauth/authorize`);
    const params = Object.fromEntries(url.searchParams);
    assert.deepEqual(params, {
      scope: 'openid project:read',
      required_access_level: 'project',
      project: 'prj_1',
      prompt: 'consent',
      response_type: 'code',
      client_id: 'pca_app',
      redirect_uri: REDIRECT_URI,
      state: first.state,
      code_challenge: createHash('sha256').update(first.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
  });

  it('never lets extra parameters replace the protocol ones', async () => {
    const { client } = await clientFor(fakeTessera());
    const request = await client.authorizationUrl({ scope: 'project:read', state: 'fixed', client_id: 'someone-else', code_challenge_method: 'plain' });
    const params = new URL(request.url).searchParams;
    assert.equal(params.get('state'), request.state);
    assert.equal(params.get('client_id'), 'pca_app');
    assert.equal(params.get('code_challenge_method'), 'S256');
  });

  it('refuses discovery metadata naming another issuer', async () => {
    const fake = fakeTessera({ '/.well-known/oauth-authorization-server': () => json({ issuer: 'https://evil.example', authorization_endpoint: 'x', token_endpoint: 'y', code_challenge_methods_supported: ['S256'] }) });
    await assert.rejects(clientFor(fake), (error) => error instanceof InvalidResponseError && error.code === 'issuer_mismatch');
  });
});

describe('client SDK: callback', () => {
  async function started(options: { clientSecret?: string } = {}) {
    const fake = fakeTessera();
    const { client, store } = await clientFor(fake, options);
    const request = await client.authorizationUrl({ scope: 'openid project:read' });
    const callback = (params: Record<string, string>) => `${REDIRECT_URI}?${new URLSearchParams(params)}`;
    return { fake, client, store, request, callback };
  }

  it('exchanges the code of a public client with client_id in the body and stores the grant', async () => {
    const { fake, client, store, request, callback } = await started();
    const tokens = await client.handleCallback(callback({ code: 'phac_1', state: request.state, iss: ISSUER }), request);
    assert.deepEqual(tokens, { accessToken: 'pha_1', refreshToken: 'phr_1', expiresAt: NOW + 3600_000, scope: 'openid project:read', accessLevel: 'organization', scopedOrganizations: ['org_a', 'org_b'], scopedProjects: [] });
    assert.deepEqual(await store.get(), tokens);
    const [exchange] = fake.requests.filter((r) => r.path === '/oauth/token');
    assert.equal(exchange!.authorization, null);
    assert.deepEqual(Object.fromEntries(exchange!.form!), { grant_type: 'authorization_code', code: 'phac_1', redirect_uri: REDIRECT_URI, code_verifier: request.codeVerifier, client_id: 'pca_app' });
  });

  it('authenticates a confidential client with client_secret_basic', async () => {
    const { fake, client, request, callback } = await started({ clientSecret: 'pcs_secret' });
    await client.handleCallback(callback({ code: 'phac_1', state: request.state, iss: ISSUER }), request);
    const [exchange] = fake.requests.filter((r) => r.path === '/oauth/token');
    assert.equal(exchange!.authorization, `Basic ${Buffer.from('pca_app:pcs_secret').toString('base64')}`);
    assert.equal(exchange!.form!.get('client_id'), null);
    assert.equal(exchange!.form!.get('client_secret'), null);
  });

  it('refuses a state mismatch, a missing iss and a wrong iss before any token request', async () => {
    const { fake, client, store, request, callback } = await started();
    const refused = async (params: Record<string, string>, code: string) =>
      assert.rejects(client.handleCallback(callback(params), request), (error) => error instanceof InvalidResponseError && error.code === code);
    await refused({ code: 'phac_1', state: 'forged', iss: ISSUER }, 'state_mismatch');
    await refused({ code: 'phac_1', iss: ISSUER }, 'state_mismatch');
    await refused({ code: 'phac_1', state: request.state }, 'issuer_mismatch');
    await refused({ code: 'phac_1', state: request.state, iss: 'https://evil.example' }, 'issuer_mismatch');
    await refused({ error: 'access_denied', state: request.state, iss: 'https://evil.example' }, 'issuer_mismatch');
    assert.equal(fake.count('/oauth/token'), 0);
    assert.equal(await store.get(), undefined);
  });

  it('surfaces an error response as a TesseraError with its code and description', async () => {
    const { fake, client, request, callback } = await started();
    await assert.rejects(client.handleCallback(callback({ error: 'access_denied', error_description: 'the user denied access', state: request.state, iss: ISSUER }), request), (error) => {
      assert.ok(error instanceof TesseraError && !(error instanceof InvalidResponseError));
      assert.equal(error.code, 'access_denied');
      assert.equal(error.description, 'the user denied access');
      assert.equal(error.message, 'access_denied: the user denied access');
      return true;
    });
    assert.equal(fake.count('/oauth/token'), 0);
  });

  it('surfaces a failed exchange without echoing the code or verifier', async () => {
    const fake = fakeTessera({ '/oauth/token': () => json({ error: 'invalid_grant', error_description: 'the authorization code is invalid' }, 400) });
    const { client } = await clientFor(fake);
    const request = await client.authorizationUrl({ scope: 'project:read' });
    await assert.rejects(client.handleCallback(`${REDIRECT_URI}?code=phac_secret&state=${request.state}&iss=${encodeURIComponent(ISSUER)}`, request), (error) => {
      assert.ok(error instanceof TesseraError);
      assert.equal(error.code, 'invalid_grant');
      assert.equal(error.status, 400);
      assert.doesNotMatch(error.message, /phac_secret|pca_|pcs_/);
      assert.ok(!error.message.includes(request.codeVerifier));
      return true;
    });
  });
});

describe('client SDK: refresh', () => {
  it('refreshes proactively within 10 minutes of expiry, and not before', async () => {
    const fake = fakeTessera();
    const { client } = await clientFor(fake, { tokens: { expiresAt: NOW + 11 * MINUTE } });
    assert.equal((await client.fetchApi('/api/organizations')).status, 200);
    assert.equal(fake.count('/oauth/token'), 0);

    const { client: expiring, store } = await clientFor(fake, { tokens: { expiresAt: NOW + 9 * MINUTE } });
    assert.equal((await expiring.fetchApi('/api/organizations')).status, 200);
    assert.deepEqual(fake.requests.slice(-2).map((r) => r.path), ['/oauth/token', '/api/organizations'], 'the refresh happens before the call');
    assert.equal(fake.requests.at(-1)!.authorization, 'Bearer pha_2');
    assert.equal((await store.get())!.refreshToken, 'phr_2');
    assert.equal((await store.get())!.expiresAt, NOW + 3600_000);
  });

  it('shares one refresh among 10 concurrent calls', async () => {
    const fake = fakeTessera();
    const { client } = await clientFor(fake, { tokens: { expiresAt: NOW - MINUTE } });
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => client.fetchApi(`/api/projects/${i}`)));
    assert.deepEqual(responses.map((r) => r.status), Array(10).fill(200));
    assert.equal(fake.count('/oauth/token'), 1);
    assert.ok(fake.requests.filter((r) => r.path.startsWith('/api/')).every((r) => r.authorization === 'Bearer pha_2'));
  });

  it('on a 401 refreshes once and retries once, and concurrent 401s share that refresh', async () => {
    const fake = fakeTessera();
    const { client } = await clientFor(fake, { tokens: { accessToken: 'pha_revoked' } });
    const responses = await Promise.all(Array.from({ length: 10 }, () => client.fetchApi('/api/organizations', { headers: { 'x-trace': '1' } })));
    assert.deepEqual(responses.map((r) => r.status), Array(10).fill(200));
    assert.equal(fake.count('/oauth/token'), 1);
    assert.equal(fake.count('/api/organizations'), 20);
  });

  it('gives back a second 401 instead of looping', async () => {
    const fake = fakeTessera({ '/api/organizations': () => json({ error: 'invalid_token' }, 401) });
    const { client } = await clientFor(fake, { tokens: {} });
    assert.equal((await client.fetchApi('/api/organizations')).status, 401);
    assert.equal(fake.count('/oauth/token'), 1);
    assert.equal(fake.count('/api/organizations'), 2);
  });

  it('signs out on invalid_grant: clears the store and throws SignedOutError without the token', async () => {
    const fake = fakeTessera();
    const { client, store } = await clientFor(fake, { tokens: { expiresAt: NOW, refreshToken: 'phr_revoked' } });
    const calls = await Promise.allSettled(Array.from({ length: 3 }, () => client.fetchApi('/api/organizations')));
    for (const call of calls) {
      assert.equal(call.status, 'rejected');
      const error = (call as PromiseRejectedResult).reason;
      assert.ok(error instanceof SignedOutError);
      assert.equal(error.code, 'invalid_grant');
      assert.doesNotMatch(error.message, /phr_|pha_/);
    }
    assert.equal(fake.count('/oauth/token'), 1);
    assert.equal(await store.get(), undefined);
    await assert.rejects(client.fetchApi('/api/organizations'), (error) => error instanceof SignedOutError && error.code === 'login_required');
  });

  it('keeps the tokens on a transient refresh failure', async () => {
    const fake = fakeTessera({ '/oauth/token': () => json({ error: 'temporarily_unavailable' }, 503) });
    const { client, store } = await clientFor(fake, { tokens: { expiresAt: NOW } });
    await assert.rejects(client.fetchApi('/api/organizations'), (error) => error instanceof TesseraError && !(error instanceof SignedOutError) && error.status === 503);
    assert.equal((await store.get())!.refreshToken, 'phr_1');
  });
});

describe('client SDK: discovery, userinfo, revocation', () => {
  it('reads the granted organizations\' projects, recording a 403 and going on', async () => {
    const fake = fakeTessera({
      '/api/organizations/org_a/projects': () => json({ results: [{ id: 'prj_1', organization_id: 'org_a', name: 'Web', created_at: '2026-01-01T00:00:00.000Z' }] }),
      '/api/organizations/org_b/projects': () => json({ error: 'access_denied', error_description: 'not granted' }, 403),
    });
    const { client } = await clientFor(fake, { tokens: { accessLevel: 'organization', scopedOrganizations: ['org_a', 'org_b'] } });
    const found = await client.discoverProjects();
    assert.deepEqual(found.projects.map((p) => p.id), ['prj_1']);
    assert.deepEqual(found.failures, [{ kind: 'organization', id: 'org_b', status: 403, error: 'access_denied', description: 'not granted' }]);
    assert.equal(fake.count('/api/organizations'), 0, 'an organization-scoped grant does not list organizations');
  });

  it('refuses userinfo without openid, and revokes the refresh token then clears the store', async () => {
    const fake = fakeTessera();
    const { client: noOpenId } = await clientFor(fake, { tokens: { scope: 'project:read' } });
    await assert.rejects(noOpenId.userInfo(), (error) => error instanceof TesseraError && error.code === 'insufficient_scope');

    const { client, store } = await clientFor(fake, { clientSecret: 'pcs_secret', tokens: {} });
    await client.revoke();
    const revocation = fake.requests.find((r) => r.path === '/oauth/revoke')!;
    assert.deepEqual(Object.fromEntries(revocation.form!), { token: 'phr_1', token_type_hint: 'refresh_token' });
    assert.match(revocation.authorization!, /^Basic /);
    assert.equal(await store.get(), undefined);
    await assert.rejects(client.fetchApi('/api/organizations'), SignedOutError);
  });
});
