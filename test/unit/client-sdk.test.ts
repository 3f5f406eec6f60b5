/**
 * The client SDK against a fake Tessera behind a fake fetch: PKCE and state, callback validation,
 * single-flight refresh (proactive and on 401), retry once, signing out on invalid_grant,
 * scope-aware discovery with per-resource failures, revocation.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { InvalidResponseError, MemoryTokenStore, SignedOutError, TesseraClient, TesseraError, type StoredTokens } from '../../packages/client/src/index.js';
import { CLIENT_ID, fakeTessera, ISSUER, json, NOW, type FakeTessera } from '../support/fake-tessera.js';

const REDIRECT_URI = 'com.example.app:/callback';
const MINUTE = 60_000;

async function clientFor(fake: FakeTessera, options: { clientSecret?: string; tokens?: Partial<StoredTokens> } = {}) {
  const store = new MemoryTokenStore();
  if (options.tokens) {
    await store.set({ accessToken: fake.state.access, refreshToken: fake.state.refresh, expiresAt: NOW + 60 * MINUTE, scope: 'openid project:read', accessLevel: 'all', scopedOrganizations: [], scopedProjects: [], ...options.tokens });
  }
  const client = await TesseraClient.discover({ issuer: ISSUER, clientId: CLIENT_ID, clientSecret: options.clientSecret, redirectUri: REDIRECT_URI, store, fetch: fake.http, now: () => NOW });
  return { client, store };
}

describe('client SDK: authorization request', () => {
  it('uses PKCE S256 with a random 32-byte verifier and a random state', async () => {
    const { client } = await clientFor(await fakeTessera());
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
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      state: first.state,
      nonce: first.nonce,
      code_challenge: createHash('sha256').update(first.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    assert.match(first.nonce!, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(first.nonce, second.nonce);
    const withoutOpenId = await client.authorizationUrl({ scope: 'project:read' });
    assert.equal(withoutOpenId.nonce, undefined);
    assert.equal(new URL(withoutOpenId.url).searchParams.get('nonce'), null, 'a nonce is sent only when openid is requested');
  });

  it('never lets extra parameters replace the protocol ones', async () => {
    const { client } = await clientFor(await fakeTessera());
    const request = await client.authorizationUrl({ scope: 'project:read', state: 'fixed', client_id: 'someone-else', code_challenge_method: 'plain' });
    const params = new URL(request.url).searchParams;
    assert.equal(params.get('state'), request.state);
    assert.equal(params.get('client_id'), CLIENT_ID);
    assert.equal(params.get('code_challenge_method'), 'S256');
  });

  it('refuses discovery metadata naming another issuer', async () => {
    const fake = await fakeTessera({ routes: { '/.well-known/oauth-authorization-server': () => json({ issuer: 'https://evil.example', authorization_endpoint: 'x', token_endpoint: 'y', code_challenge_methods_supported: ['S256'] }) } });
    await assert.rejects(clientFor(fake), (error) => error instanceof InvalidResponseError && error.code === 'issuer_mismatch');
  });
});

describe('client SDK: callback', () => {
  async function started(options: { clientSecret?: string } = {}) {
    const fake = await fakeTessera();
    const { client, store } = await clientFor(fake, options);
    const request = await client.authorizationUrl({ scope: 'openid project:read' });
    fake.state.nonce = request.nonce;
    const callback = (params: Record<string, string>) => `${REDIRECT_URI}?${new URLSearchParams(params)}`;
    return { fake, client, store, request, callback };
  }

  it('exchanges the code of a public client with client_id in the body and stores the grant', async () => {
    const { fake, client, store, request, callback } = await started();
    const tokens = await client.handleCallback(callback({ code: 'phac_1', state: request.state, iss: ISSUER }), request);
    const { idToken, idTokenClaims, ...rest } = tokens;
    assert.deepEqual(rest, { accessToken: 'pha_1', refreshToken: 'phr_1', expiresAt: NOW + 3600_000, scope: 'openid project:read', accessLevel: 'organization', scopedOrganizations: ['org_a', 'org_b'], scopedProjects: [] });
    assert.match(idToken!, /^eyJ/);
    assert.equal(idTokenClaims!.sub, 'usr_1');
    assert.equal(idTokenClaims!.nonce, request.nonce);
    assert.deepEqual(await store.get(), tokens);
    const [exchange] = fake.requests.filter((r) => r.path === '/oauth/token');
    assert.equal(exchange!.authorization, null);
    assert.deepEqual(Object.fromEntries(exchange!.form!), { grant_type: 'authorization_code', code: 'phac_1', redirect_uri: REDIRECT_URI, code_verifier: request.codeVerifier, client_id: CLIENT_ID });
  });

  it('authenticates a confidential client with client_secret_basic', async () => {
    const { fake, client, request, callback } = await started({ clientSecret: 'pcs_secret' });
    await client.handleCallback(callback({ code: 'phac_1', state: request.state, iss: ISSUER }), request);
    const [exchange] = fake.requests.filter((r) => r.path === '/oauth/token');
    assert.equal(exchange!.authorization, `Basic ${Buffer.from(`${CLIENT_ID}:pcs_secret`).toString('base64')}`);
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
    const fake = await fakeTessera({ routes: { '/oauth/token': () => json({ error: 'invalid_grant', error_description: 'the authorization code is invalid' }, 400) } });
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
    const fake = await fakeTessera();
    const { client } = await clientFor(fake, { tokens: { expiresAt: NOW + 11 * MINUTE } });
    assert.equal((await client.fetchApi('/api/organizations')).status, 200);
    assert.equal(fake.count('/oauth/token'), 0);

    const { client: expiring, store } = await clientFor(fake, { tokens: { expiresAt: NOW + 9 * MINUTE } });
    assert.equal((await expiring.fetchApi('/api/organizations')).status, 200);
    const protocol = fake.requests.filter((r) => r.path !== '/.well-known/jwks.json');
    assert.deepEqual(protocol.slice(-2).map((r) => r.path), ['/oauth/token', '/api/organizations'], 'the refresh happens before the call');
    assert.equal(fake.requests.at(-1)!.authorization, 'Bearer pha_2');
    assert.equal((await store.get())!.refreshToken, 'phr_2');
    assert.equal((await store.get())!.expiresAt, NOW + 3600_000);
  });

  it('shares one refresh among 10 concurrent calls', async () => {
    const fake = await fakeTessera();
    const { client } = await clientFor(fake, { tokens: { expiresAt: NOW - MINUTE } });
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => client.fetchApi(`/api/projects/${i}`)));
    assert.deepEqual(responses.map((r) => r.status), Array(10).fill(200));
    assert.equal(fake.count('/oauth/token'), 1);
    assert.ok(fake.requests.filter((r) => r.path.startsWith('/api/')).every((r) => r.authorization === 'Bearer pha_2'));
  });

  it('on a 401 refreshes once and retries once, and concurrent 401s share that refresh', async () => {
    const fake = await fakeTessera();
    const { client } = await clientFor(fake, { tokens: { accessToken: 'pha_revoked' } });
    const responses = await Promise.all(Array.from({ length: 10 }, () => client.fetchApi('/api/organizations', { headers: { 'x-trace': '1' } })));
    assert.deepEqual(responses.map((r) => r.status), Array(10).fill(200));
    assert.equal(fake.count('/oauth/token'), 1);
    assert.equal(fake.count('/api/organizations'), 20);
  });

  it('gives back a second 401 instead of looping', async () => {
    const fake = await fakeTessera({ routes: { '/api/organizations': () => json({ error: 'invalid_token' }, 401) } });
    const { client } = await clientFor(fake, { tokens: {} });
    assert.equal((await client.fetchApi('/api/organizations')).status, 401);
    assert.equal(fake.count('/oauth/token'), 1);
    assert.equal(fake.count('/api/organizations'), 2);
  });

  it('signs out on invalid_grant: clears the store and throws SignedOutError without the token', async () => {
    const fake = await fakeTessera();
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
    const fake = await fakeTessera({ routes: { '/oauth/token': () => json({ error: 'temporarily_unavailable' }, 503) } });
    const { client, store } = await clientFor(fake, { tokens: { expiresAt: NOW } });
    await assert.rejects(client.fetchApi('/api/organizations'), (error) => error instanceof TesseraError && !(error instanceof SignedOutError) && error.status === 503);
    assert.equal((await store.get())!.refreshToken, 'phr_1');
  });
});

describe('client SDK: discovery, userinfo, revocation', () => {
  it('reads the granted organizations\' projects, recording a 403 and going on', async () => {
    const fake = await fakeTessera({ routes: {
      '/api/organizations/org_a/projects': () => json({ results: [{ id: 'prj_1', organization_id: 'org_a', name: 'Web', created_at: '2026-01-01T00:00:00.000Z' }] }),
      '/api/organizations/org_b/projects': () => json({ error: 'access_denied', error_description: 'not granted' }, 403),
    } });
    const { client } = await clientFor(fake, { tokens: { accessLevel: 'organization', scopedOrganizations: ['org_a', 'org_b'] } });
    const found = await client.discoverProjects();
    assert.deepEqual(found.projects.map((p) => p.id), ['prj_1']);
    assert.deepEqual(found.failures, [{ kind: 'organization', id: 'org_b', status: 403, error: 'access_denied', description: 'not granted' }]);
    assert.equal(fake.count('/api/organizations'), 0, 'an organization-scoped grant does not list organizations');
  });

  it('refuses userinfo without openid, and revokes the refresh token then clears the store', async () => {
    const fake = await fakeTessera();
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

describe('client SDK: regions', () => {
  async function signedInWith(fake: FakeTessera) {
    const { client, store } = await clientFor(fake);
    const request = await client.authorizationUrl({ scope: 'openid project:read' });
    fake.state.nonce = request.nonce;
    const tokens = await client.handleCallback(`${REDIRECT_URI}?code=phac_1&state=${request.state}&iss=${encodeURIComponent(ISSUER)}`, request);
    return { client, store, tokens };
  }
  const apiCalls = (fake: FakeTessera) => fake.requests.filter((r) => r.path.startsWith('/api/')).map((r) => r.url);

  it('calls the platform API at the base_url the token response names, also after a refresh that does not repeat it', async () => {
    const fake = await fakeTessera();
    fake.state.extra = { region: 'eu', base_url: 'https://eu.tessera.example/' };
    const { client, store, tokens } = await signedInWith(fake);
    assert.equal(tokens.baseUrl, 'https://eu.tessera.example');
    await client.fetchApi('/api/organizations');
    assert.deepEqual(apiCalls(fake), ['https://eu.tessera.example/api/organizations']);

    fake.state.extra = {};
    await store.set({ ...(await store.get())!, expiresAt: NOW });
    await client.fetchApi('/api/users/@me');
    assert.equal(fake.count('/oauth/token'), 2);
    assert.equal(apiCalls(fake).at(-1), 'https://eu.tessera.example/api/users/@me');
  });

  it('falls back to discovery\'s base_url, then to the issuer', async () => {
    const regional = await fakeTessera({ metadata: { region: 'us', base_url: 'https://us.tessera.example' } });
    await (await signedInWith(regional)).client.fetchApi('/api/organizations');
    assert.deepEqual(apiCalls(regional), ['https://us.tessera.example/api/organizations']);

    const single = await fakeTessera();
    await (await signedInWith(single)).client.fetchApi('/api/organizations');
    assert.deepEqual(apiCalls(single), [`${ISSUER}/api/organizations`]);
  });

  it('refuses a base_url that is not an http(s) URL', async () => {
    const fake = await fakeTessera();
    fake.state.extra = { base_url: 'javascript:alert(1)' };
    await assert.rejects(signedInWith(fake), (error) => error instanceof InvalidResponseError && error.code === 'invalid_response' && /base_url/.test(error.message));
    await assert.rejects(clientFor(await fakeTessera({ metadata: { base_url: 'ftp://files.example' } })), (error) => error instanceof InvalidResponseError && /base_url/.test(error.message));
  });
});
