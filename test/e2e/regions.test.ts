/**
 * Two regional deployments (us, eu) behind the region-agnostic front, all over real HTTP. A relying
 * party (openid-client) knows only the front: it discovers it, sends the user to the front's
 * authorization endpoint, and exchanges, refreshes, introspects and revokes there; the front picks
 * the region. Runs on SQLite: the regions are a deployment topology, and storage is covered by the
 * suites that run on both databases.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { DocumentServer } from '../support/document-server.js';
import { startRegions, type Regions } from '../support/regions.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import type { TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT_URI = 'http://127.0.0.1:7777/callback';

describe('regions behind the region-agnostic front', () => {
  const docs = new DocumentServer({ client_name: 'Region Explorer', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
  let regions: Regions;
  let us: TestServer;
  let eu: TestServer;
  let frontUrl: string;
  let clientId: string;

  before(async () => {
    await docs.start();
    clientId = docs.serve('/region-explorer');
    regions = await startRegions({ TESSERA_CIMD_ALLOW_LOOPBACK: 'true', TESSERA_CIMD_CA_FILE: docs.caFile });
    ({ us, eu, frontUrl } = regions);
  });
  after(async () => {
    await regions.close();
    await docs.close();
  });

  /** The relying party, which knows only the front. */
  async function frontClient(id = clientId, secret?: string) {
    const auth = secret ? oidc.ClientSecretBasic(secret) : oidc.None();
    return oidc.discovery(new URL(frontUrl), id, secret ? { client_secret: secret } : {}, auth, { execute: [oidc.allowInsecureRequests] });
  }

  /** The user's browser: picks a region on the front, then signs in and consents in that region. */
  async function signInThroughFront(config: oidc.Configuration, region: TestServer, regionName: string, email: string) {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email project:read',
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    assert.equal(url.origin, frontUrl);
    const browserAtFront = new UserAgent(frontUrl);
    const picker = await browserAtFront.request(url.href);
    assert.equal(picker.status, 200);
    const html = await picker.text();
    assert.match(html, /United States \(US\)/);
    assert.match(html, /European Union \(EU\)/);
    const link = new RegExp(`href="([^"]+)" data-region="${regionName}"`).exec(html)![1]!.replace(/&amp;/g, '&');
    const chosen = await browserAtFront.request(link);
    assert.equal(chosen.status, 302);
    assert.match(chosen.headers.get('set-cookie') ?? '', /tessera_region=/);
    const regional = new URL(chosen.headers.get('location')!);
    assert.equal(regional.origin, region.url);
    // The client's request reaches the region unchanged.
    assert.equal(regional.search, url.search);

    const browserInRegion = new UserAgent(region.url);
    await browserInRegion.signIn(email, PASSWORD);
    const callback = await browserInRegion.authorize(regional.href);
    assert.equal(callback.searchParams.get('iss'), frontUrl);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce });
    return { tokens, browserAtFront, authorizationUrl: url };
  }

  it('front discovery points every endpoint at the front; a region names itself', async () => {
    const metadata = (await (await fetch(`${frontUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(metadata.issuer, frontUrl);
    for (const name of ['authorization_endpoint', 'token_endpoint', 'device_authorization_endpoint', 'revocation_endpoint', 'introspection_endpoint', 'userinfo_endpoint', 'jwks_uri', 'registration_endpoint']) {
      assert.ok(String(metadata[name]).startsWith(`${frontUrl}/`), `${name} is ${String(metadata[name])}`);
    }
    assert.equal(metadata.region, undefined);
    assert.equal(metadata.client_id_metadata_document_supported, true);
    const regional = (await (await fetch(`${eu.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(regional.issuer, frontUrl);
    assert.equal(regional.region, 'eu');
    assert.equal(regional.token_endpoint, `${eu.url}/oauth/token`);
  });

  it('signs in an EU user through the front: tokens, ID token, userinfo, refresh and revocation all routed', async () => {
    const user = await seedUser(eu.ctx);
    const config = await frontClient();
    const { tokens } = await signInThroughFront(config, eu, 'eu', user.email);
    assert.match(tokens.access_token, /^pha_/);
    assert.equal(tokens.region, 'eu');
    assert.equal(tokens.base_url, eu.url);

    // The ID token is signed by the EU region and verifies against the front's JWKS.
    const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${frontUrl}/.well-known/jwks.json`)), { issuer: frontUrl, audience: clientId });
    assert.equal(payload.email, user.email);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, payload.sub!);
    assert.equal(info.email, user.email);

    // The US region is asked first and does not know the refresh token; the EU region rotates it.
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.equal(refreshed.region, 'eu');

    await oidc.tokenRevocation(config, refreshed.refresh_token!);
    await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token!), (error: oidc.ResponseBodyError) => error.error === 'invalid_grant');
    const userinfo = await fetch(`${frontUrl}/oauth/userinfo`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
    assert.equal(userinfo.status, 401);
  });

  it('remembers the region on the front until the client asks to choose again', async () => {
    const user = await seedUser(eu.ctx);
    const config = await frontClient();
    const { browserAtFront, authorizationUrl } = await signInThroughFront(config, eu, 'eu', user.email);
    const again = await browserAtFront.request(authorizationUrl.href);
    assert.equal(again.status, 302);
    assert.equal(new URL(again.headers.get('location')!).origin, eu.url);
    const choose = new URL(authorizationUrl);
    choose.searchParams.set('prompt', 'select_account');
    assert.equal((await browserAtFront.request(choose.href)).status, 200);
  });

  it('routes a confidential client registered in one region past the region that does not know it', async () => {
    const { client, clientSecret } = await seedClient(eu.ctx, { redirectUris: [REDIRECT_URI], scopeCeiling: ['openid', 'email', 'project:read'] });
    const user = await seedUser(eu.ctx);
    const config = await frontClient(client.id, clientSecret!);
    // The US region, asked first, answers invalid_client; the EU region's answer is relayed.
    const { tokens } = await signInThroughFront(config, eu, 'eu', user.email);
    assert.equal(tokens.region, 'eu');
    const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
    assert.equal(introspection.active, true);
    assert.equal(introspection.client_id, client.id);
    // An unknown token is simply inactive, whichever region was asked.
    assert.equal((await oidc.tokenIntrospection(config, 'pha_unknown')).active, false);
  });

  it('a region tells anyone what its consent page shows of a client, and the front names the app with it', async () => {
    const { client } = await seedClient(eu.ctx, { name: 'Atlas Maps', logoUri: 'https://cdn.example/atlas.png', redirectUris: [REDIRECT_URI] });
    const lookup = (server: TestServer, query: string) => fetch(`${server.url}/oauth/client_display${query}`);
    const known = await lookup(eu, `?client_id=${client.id}`);
    assert.equal(known.status, 200);
    assert.equal(known.headers.get('cache-control'), 'public, max-age=60');
    assert.deepEqual(await known.json(), { client_id: client.id, client_name: 'Atlas Maps', logo_uri: 'https://cdn.example/atlas.png', verified: false });
    const unknown = await lookup(us, `?client_id=${client.id}`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(Object.keys((await unknown.json()) as object).sort(), ['error', 'error_description']);
    assert.equal(((await (await lookup(eu, '')).json()) as { error: string }).error, 'invalid_request');
    assert.equal((await lookup(eu, `?client_id=${client.id}&client_id=other`)).status, 400);
    // A metadata document is never fetched for a lookup.
    assert.equal((await lookup(eu, `?client_id=${encodeURIComponent(docs.serve('/never-fetched'))}`)).status, 404);
    assert.equal(docs.count('/never-fetched'), 0);

    const picker = async (id: string) => (await new UserAgent(frontUrl).request(`${frontUrl}/oauth/authorize?client_id=${encodeURIComponent(id)}&response_type=code`)).text();
    assert.match(await picker(client.id), /Sign in to continue to <strong>Atlas Maps<\/strong>/);
    assert.match(await picker(clientId), new RegExp(`Sign in to continue to <strong>${new URL(clientId).host}</strong>`), 'a metadata document client is named by its host');
    assert.doesNotMatch(await picker('pca_nowhere'), /Sign in to continue/);
  });

  it('refuses an unknown region on the front and never redirects elsewhere', async () => {
    for (const region of ['mars', 'https://evil.example']) {
      const response = await fetch(`${frontUrl}/oauth/authorize?client_id=x&region=${encodeURIComponent(region)}`, { redirect: 'manual' });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('location'), null);
    }
  });

  it('the front publishes both regions’ signing keys', async () => {
    const kids = async (url: string) => ((await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
    const [atFront, atUs, atEu] = await Promise.all([kids(frontUrl), kids(us.url), kids(eu.url)]);
    assert.deepEqual(new Set(atFront), new Set([...atUs, ...atEu]));
  });

  // Last: it stops the EU region.
  it('answers 503, not invalid_grant, while the region holding a refresh token is down', async () => {
    const user = await seedUser(eu.ctx);
    const config = await frontClient();
    const { tokens } = await signInThroughFront(config, eu, 'eu', user.email);
    await eu.app.close();
    const response = await fetch(`${frontUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: clientId }),
    });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
    assert.equal(((await response.json()) as { error: string }).error, 'temporarily_unavailable');
  });
});
