/**
 * OpenID Connect end to end: openid-client (a certified relying party library) signs in,
 * validates the ID token and reads userinfo; claims per scope; email verification; the
 * prompt / max_age rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { createUser } from '../../packages/server/src/platform/accounts/users.js';
import { accessTokenHash } from '../../packages/server/src/core/oidc/id-tokens.js';
import { storageTargets } from '../support/database.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT_URI = 'http://127.0.0.1:7777/callback';

for (const target of storageTargets()) {
  describe(`OpenID Connect (${target.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target);
    });
    after(() => server.close());

    async function relyingParty(options: Parameters<typeof seedClient>[1] = {}) {
      const { client, clientSecret } = await seedClient(server.ctx, { redirectUris: [REDIRECT_URI], ...options });
      const metadata = { client_secret: clientSecret!, id_token_signed_response_alg: client.idTokenSignedResponseAlg };
      const config = await oidc.discovery(new URL(server.url), client.id, metadata, oidc.ClientSecretPost(clientSecret!), { execute: [oidc.allowInsecureRequests] });
      return { client, config };
    }

    async function signedInAgent() {
      const user = await seedUser(server.ctx);
      const agent = new UserAgent(server.url);
      await agent.signIn(user.email, PASSWORD);
      return { user, agent };
    }

    async function signIn(config: oidc.Configuration, agent: UserAgent, scope: string, extra: Record<string, string> = {}) {
      const codeVerifier = oidc.randomPKCECodeVerifier();
      // A nonce makes openid-client require an ID token, so only OpenID requests carry one.
      const nonce = scope.split(' ').includes('openid') ? oidc.randomNonce() : undefined;
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope,
        ...(nonce ? { nonce } : {}),
        state,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        ...extra,
      });
      const callback = await agent.authorize(url.href);
      const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedNonce: nonce, expectedState: state });
      return { tokens, nonce };
    }

    async function jwks() {
      return createLocalJWKSet((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet);
    }

    it('publishes an OpenID configuration consistent with the RFC 8414 metadata', async () => {
      const openid = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      const oauth = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.deepEqual(openid, oauth);
      assert.equal(openid.issuer, server.url);
      assert.equal(openid.userinfo_endpoint, `${server.url}/oauth/userinfo`);
      assert.equal(openid.jwks_uri, `${server.url}/.well-known/jwks.json`);
      assert.deepEqual(openid.subject_types_supported, ['public']);
      assert.deepEqual(openid.id_token_signing_alg_values_supported, ['RS256', 'ES256']);
      assert.deepEqual(openid.code_challenge_methods_supported, ['S256']);
      assert.ok((openid.claims_supported as string[]).includes('email_verified'));
      assert.ok((openid.scopes_supported as string[]).includes('openid'));
    });

    it('serves a cacheable JWKS with public keys only', async () => {
      const response = await fetch(`${server.url}/.well-known/jwks.json`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('cache-control')!, /public, max-age=\d+/);
      const etag = response.headers.get('etag')!;
      const { keys } = (await response.json()) as { keys: Array<Record<string, string>> };
      assert.deepEqual(keys.map((key) => key.alg).sort(), ['ES256', 'RS256']);
      for (const key of keys) {
        assert.equal(key.use, 'sig');
        assert.ok(key.kid);
        for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(key[secret], undefined);
      }
      assert.equal((await fetch(`${server.url}/.well-known/jwks.json`, { headers: { 'if-none-match': etag } })).status, 304);
    });

    it('signs in with openid-client: ID token verified through the JWKS, nonce, at_hash, userinfo', async () => {
      const { config, client } = await relyingParty();
      const { user, agent } = await signedInAgent();
      const before = Math.floor(Date.now() / 1000);
      const { tokens, nonce } = await signIn(config, agent, 'openid profile email');
      const claims = tokens.claims()!;
      assert.equal(claims.iss, server.url);
      assert.equal(claims.sub, user.id);
      assert.notEqual(claims.sub, user.email);
      assert.equal(claims.aud, client.id);
      assert.equal(claims.nonce, nonce);
      assert.equal(claims.email, user.email);
      assert.equal(claims.email_verified, false);
      assert.equal(claims.name, 'Ada Lovelace');
      assert.equal(claims.given_name, 'Ada');
      assert.equal(claims.family_name, 'Lovelace');
      assert.ok(claims.auth_time! >= before - 5 && claims.auth_time! <= claims.iat);
      assert.equal(claims.exp - claims.iat, 3600);

      const verified = await jwtVerify(tokens.id_token!, await jwks(), { issuer: server.url, audience: client.id });
      assert.equal(verified.protectedHeader.alg, 'RS256');
      assert.equal(verified.payload.at_hash, accessTokenHash(tokens.access_token));

      const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
      assert.deepEqual(info, { sub: user.id, email: user.email, email_verified: false, name: 'Ada Lovelace', given_name: 'Ada', family_name: 'Lovelace' });

      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      const fresh = await jwtVerify(refreshed.id_token!, await jwks(), { issuer: server.url, audience: client.id });
      assert.equal(fresh.payload.sub, user.id);
      assert.equal(fresh.payload.auth_time, claims.auth_time);
      assert.equal(fresh.payload.nonce, undefined);
      assert.equal(fresh.payload.at_hash, accessTokenHash(refreshed.access_token));
    });

    it('signs ES256 ID tokens for a client that registered for them', async () => {
      const { config, client } = await relyingParty({ idTokenSignedResponseAlg: 'ES256' });
      const { agent } = await signedInAgent();
      const { tokens } = await signIn(config, agent, 'openid');
      assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'ES256');
      await jwtVerify(tokens.id_token!, await jwks(), { issuer: server.url, audience: client.id, algorithms: ['ES256'] });
    });

    it('releases claims by scope, and no ID token without openid', async () => {
      const { config } = await relyingParty();
      const { user, agent } = await signedInAgent();
      const cases: Array<[string, Record<string, unknown>]> = [
        ['openid', { sub: user.id }],
        ['openid email', { sub: user.id, email: user.email, email_verified: false }],
        ['openid profile', { sub: user.id, name: 'Ada Lovelace', given_name: 'Ada', family_name: 'Lovelace' }],
      ];
      for (const [scope, expected] of cases) {
        const { tokens } = await signIn(config, agent, scope, { prompt: 'consent' });
        assert.deepEqual(await oidc.fetchUserInfo(config, tokens.access_token, user.id), expected, scope);
        const { iss: _iss, aud: _aud, exp: _exp, iat: _iat, auth_time: _auth, nonce: _nonce, at_hash: _atHash, amr, ...idClaims } = tokens.claims()!;
        assert.deepEqual(idClaims, expected, `ID token for ${scope}`);
        assert.deepEqual(amr, ['pwd'], 'a password sign-in');
      }
      const { tokens } = await signIn(config, agent, 'project:read', { prompt: 'consent' });
      assert.equal(tokens.id_token, undefined);
    });

    it('answers userinfo errors per RFC 6750', async () => {
      const { config } = await relyingParty();
      const { agent } = await signedInAgent();
      const { tokens } = await signIn(config, agent, 'openid email');

      const missing = await fetch(`${server.url}/oauth/userinfo`);
      assert.equal(missing.status, 401);
      assert.equal(missing.headers.get('www-authenticate'), `Bearer realm="${server.url}"`);

      const bogus = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: 'Bearer pha_notarealtoken' } });
      assert.equal(bogus.status, 401);
      assert.match(bogus.headers.get('www-authenticate')!, /error="invalid_token"/);

      const malformed = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: 'Basic abc' } });
      assert.equal(malformed.status, 400);
      assert.match(malformed.headers.get('www-authenticate')!, /error="invalid_request"/);

      const viaForm = await fetch(`${server.url}/oauth/userinfo`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ access_token: tokens.access_token }),
      });
      assert.equal(viaForm.status, 200);
      assert.equal(((await viaForm.json()) as { email: string }).email !== undefined, true);
      const viaQuery = await fetch(`${server.url}/oauth/userinfo?access_token=${tokens.access_token}`);
      assert.equal(viaQuery.status, 400);
      assert.match(viaQuery.headers.get('www-authenticate')!, /error="invalid_request", error_description="send the access token in the Authorization header, never in the URL"/);

      const { tokens: apiOnly } = await signIn(config, agent, 'project:read', { prompt: 'consent' });
      const insufficient = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${apiOnly.access_token}` } });
      assert.equal(insufficient.status, 403);
      assert.match(insufficient.headers.get('www-authenticate')!, /error="insufficient_scope".*scope="openid"/);

      await oidc.tokenRevocation(config, tokens.access_token);
      const revoked = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(revoked.status, 401);
    });

    it('keeps email_verified false until the user follows the verification link', async () => {
      const { config } = await relyingParty();
      const agent = new UserAgent(server.url);
      const email = `new-${Date.now()}@example.com`;
      // Created by an operator without --verified: the address is sent a verification link.
      await createUser(server.ctx.store, { email, password: PASSWORD, name: 'Grace Hopper' }, server.ctx.now(), { sendVerificationFrom: server.config });
      await agent.signIn(email, PASSWORD);
      const { tokens } = await signIn(config, agent, 'openid email');
      assert.equal(tokens.claims()!.email_verified, false);

      const [mail] = await server.db.selectFrom('outbox').selectAll().where('to_address', '=', email).execute();
      const link = new URL(/https?:\/\/\S+/.exec(mail!.body)![0]);
      assert.equal(link.origin, server.url);
      // Following the link shows a confirmation button; the GET alone verifies nothing.
      const confirmPage = await (await agent.request(link.pathname + link.search)).text();
      const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
      assert.equal(info.email_verified, false);
      const confirmed = await agent.request('/verify-email', { form: { _csrf: UserAgent.csrfToken(confirmPage), token: link.searchParams.get('token')! } });
      assert.equal(confirmed.status, 200);
      assert.equal((await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).email_verified, true);

      const again = await agent.request('/verify-email', { form: { _csrf: UserAgent.csrfToken(confirmPage), token: link.searchParams.get('token')! } });
      assert.equal(again.status, 400);
      const forged = await agent.request('/verify-email', { form: { _csrf: UserAgent.csrfToken(confirmPage), token: 'phev_forged' } });
      assert.equal(forged.status, 400);
    });

    describe('prompt and max_age', () => {
      async function authorize(agent: UserAgent, clientId: string, extra: Record<string, string>) {
        const url = new URL(`${server.url}/oauth/authorize`);
        const params = { client_id: clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid', state: 's1', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGrSljz_vQ', code_challenge_method: 'S256', ...extra };
        for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
        const response = await agent.request(url.pathname + url.search);
        const location = response.headers.get('location');
        return { response, location: location ? new URL(location, server.url) : undefined };
      }

      it('prompt=none: login_required signed out, consent_required without a grant, a code with one', async () => {
        const { client } = await relyingParty();
        const signedOut = await authorize(new UserAgent(server.url), client.id, { prompt: 'none' });
        assert.equal(signedOut.location!.origin + signedOut.location!.pathname, REDIRECT_URI);
        assert.equal(signedOut.location!.searchParams.get('error'), 'login_required');
        assert.equal(signedOut.location!.searchParams.get('state'), 's1');

        const { agent } = await signedInAgent();
        const noGrant = await authorize(agent, client.id, { prompt: 'none' });
        assert.equal(noGrant.location!.searchParams.get('error'), 'consent_required');

        await agent.authorize((await authorize(agent, client.id, {})).response.url);
        const granted = await authorize(agent, client.id, { prompt: 'none' });
        assert.ok(granted.location!.searchParams.get('code'));
      });

      it('prompt=none: interaction_required when the grant needs a narrowing choice', async () => {
        const { client } = await relyingParty();
        const { agent } = await signedInAgent();
        const first = await authorize(agent, client.id, {});
        assert.equal(first.response.status, 200);
        await agent.authorize(first.response.url);
        const narrowed = await authorize(agent, client.id, { prompt: 'none', required_access_level: 'project' });
        assert.equal(narrowed.location!.searchParams.get('error'), 'interaction_required');
      });

      it('prompt=none cannot be combined with other values', async () => {
        const { client } = await relyingParty();
        const { agent } = await signedInAgent();
        const { location } = await authorize(agent, client.id, { prompt: 'none login' });
        assert.equal(location!.searchParams.get('error'), 'invalid_request');
      });

      it('prompt=login and an exceeded max_age send a signed-in user back to login; a fresh sign-in moves auth_time', async () => {
        const { config } = await relyingParty();
        const { user, agent } = await signedInAgent();
        const { tokens } = await signIn(config, agent, 'openid');
        const firstAuthTime = tokens.claims()!.auth_time!;

        for (const extra of [{ prompt: 'login' }, { max_age: '0' }] as Array<Record<string, string>>) {
          const { location } = await authorize(agent, config.clientMetadata().client_id, extra);
          assert.equal(location!.pathname, '/login', JSON.stringify(extra));
          const returnTo = location!.searchParams.get('return_to')!;
          assert.ok(returnTo.startsWith('/oauth/authorize?'));
          assert.ok(!new URL(returnTo, server.url).searchParams.has('prompt'), 'prompt=login is dropped after signing in');
        }
        const fresh = await authorize(agent, config.clientMetadata().client_id, { max_age: '3600' });
        assert.ok(fresh.location!.searchParams.get('code'), 'a recent enough session passes max_age');

        server.advance(2000);
        await agent.signIn(user.email, PASSWORD);
        const { tokens: again } = await signIn(config, agent, 'openid', { max_age: '60' });
        assert.ok(again.claims()!.auth_time! >= firstAuthTime + 1);
      });

      it('continues after a sign-in that satisfies max_age, max_age=0 included, instead of asking again', async () => {
        const { config } = await relyingParty();
        const clientId = config.clientMetadata().client_id;
        const { user, agent: stale } = await signedInAgent();
        server.advance(120_000);
        // Signed out with max_age=0 (every sign-in used to loop back to /login), and signed in two minutes ago with max_age=60.
        for (const [agent, maxAge] of [[new UserAgent(server.url), '0'], [stale, '60']] as const) {
          const { location } = await authorize(agent, clientId, { max_age: maxAge });
          assert.equal(location!.pathname, '/login', `max_age=${maxAge}`);
          const loginPage = await (await agent.request(location!.pathname + location!.search)).text();
          const form = { _csrf: UserAgent.csrfToken(loginPage), email: user.email, password: PASSWORD, ...UserAgent.hiddenFields(loginPage) };
          const signedIn = await agent.request('/login', { form });
          assert.equal(signedIn.status, 303);
          // The consent page the first time, the code at once when the user has consented before; never /login again.
          const callback = await agent.authorize(new URL(signedIn.headers.get('location')!, server.url).href);
          assert.equal(callback.origin + callback.pathname, REDIRECT_URI, `after signing in for max_age=${maxAge}: ${callback.href}`);
          assert.ok(callback.searchParams.get('code'), `max_age=${maxAge}`);
        }
      });

      it('prompt=none with an exceeded max_age is login_required', async () => {
        const { client } = await relyingParty();
        const { agent } = await signedInAgent();
        await agent.authorize((await authorize(agent, client.id, {})).response.url);
        server.advance(10_000);
        const { location } = await authorize(agent, client.id, { prompt: 'none', max_age: '5' });
        assert.equal(location!.searchParams.get('error'), 'login_required');
      });

      it('prompt=consent shows the consent page even with a grant', async () => {
        const { client } = await relyingParty();
        const { agent } = await signedInAgent();
        await agent.authorize((await authorize(agent, client.id, {})).response.url);
        const forced = await authorize(agent, client.id, { prompt: 'consent' });
        assert.equal(forced.response.status, 200);
        assert.match(await forced.response.text(), /Authorize/);
      });
    });
  });
}
