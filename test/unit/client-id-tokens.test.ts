/**
 * The client SDK's ID token checks against a fake Tessera that signs real JWS (RS256, ES256):
 * signature by the issuer's published keys (refetched once for an unknown kid), iss, aud/azp, exp,
 * nonce, at_hash, and on refresh the same subject (OpenID Connect Core §3.1.3.7, §12.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidResponseError, MemoryTokenStore, SignedOutError, TesseraClient } from '../../packages/client/src/index.js';
import { CLIENT_ID, fakeTessera, ISSUER, json, NOW, type FakeOptions, type FakeTessera } from '../support/fake-tessera.js';

const REDIRECT_URI = 'com.example.app:/callback';
const NOW_SECONDS = Math.floor(NOW / 1000);

async function signedIn(fake: FakeTessera) {
  const store = new MemoryTokenStore();
  const client = await TesseraClient.discover({ issuer: ISSUER, clientId: CLIENT_ID, redirectUri: REDIRECT_URI, store, fetch: fake.http, now: () => NOW });
  const signIn = async () => {
    const request = await client.authorizationUrl({ scope: fake.state.scope });
    fake.state.nonce = request.nonce;
    return client.handleCallback(`${REDIRECT_URI}?code=phac_1&state=${request.state}&iss=${encodeURIComponent(ISSUER)}`, request);
  };
  return { client, store, signIn };
}

const refusedIdToken = (pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof InvalidResponseError, String(error));
  assert.equal(error.code, 'invalid_id_token');
  assert.match(error.message, pattern);
  return true;
};

describe('client SDK: ID tokens', () => {
  it('verifies an RS256 ID token and exposes its claims', async () => {
    const fake = await fakeTessera();
    const { client, signIn } = await signedIn(fake);
    const tokens = await signIn();
    const claims = await client.idTokenClaims();
    assert.deepEqual(claims, tokens.idTokenClaims);
    assert.equal(claims!.sub, 'usr_1');
    assert.equal(claims!.email, 'ada@example.com');
    assert.equal(claims!.aud, CLIENT_ID);
    assert.equal(fake.count('/.well-known/jwks.json'), 1);
  });

  it('verifies an ES256 ID token', async () => {
    const fake = await fakeTessera();
    fake.state.signWith = fake.keys.es256;
    const { signIn } = await signedIn(fake);
    assert.equal((await signIn()).idTokenClaims!.sub, 'usr_1');
  });

  it('keeps no ID token when openid was not requested', async () => {
    const fake = await fakeTessera();
    fake.state.scope = 'project:read';
    const { client, signIn } = await signedIn(fake);
    const tokens = await signIn();
    assert.equal(tokens.idToken, undefined);
    assert.equal(await client.idTokenClaims(), undefined);
    assert.equal(fake.count('/.well-known/jwks.json'), 0);
  });

  const refusals: Array<[string, (fake: FakeTessera) => void, RegExp]> = [
    ['another issuer', (fake) => (fake.state.claims = { iss: 'https://evil.example' }), /issued by https:\/\/evil\.example/],
    ['another audience', (fake) => (fake.state.claims = { aud: 'pca_other' }), /another client/],
    ['several audiences without azp', (fake) => (fake.state.claims = { aud: [CLIENT_ID, 'pca_other'] }), /another authorized party/],
    ['expired beyond the clock skew', (fake) => (fake.state.claims = { exp: NOW_SECONDS - 120 }), /expired/],
    ['no exp', (fake) => (fake.state.claims = { exp: undefined }), /lacks exp or iat/],
    ['another nonce', (fake) => (fake.state.claims = { nonce: 'replayed' }), /nonce/],
    ['another access token', (fake) => (fake.state.claims = { at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' }), /at_hash/],
    ['a forged signature', (fake) => (fake.state.signWith = { ...fake.keys.rotated, kid: fake.keys.rs256.kid }), /signature does not verify/],
    ['a key that was never published', (fake) => (fake.state.signWith = fake.keys.rotated), /no RS256 key with kid rs-2/],
  ];
  for (const [what, misbehave, message] of refusals) {
    it(`refuses an ID token with ${what}, storing nothing`, async () => {
      const fake = await fakeTessera();
      misbehave(fake);
      const { store, signIn } = await signedIn(fake);
      await assert.rejects(signIn(), refusedIdToken(message));
      assert.equal(await store.get(), undefined);
    });
  }

  it('accepts several audiences when azp names the client, and an exp within the clock skew', async () => {
    const fake = await fakeTessera();
    fake.state.claims = { aud: [CLIENT_ID, 'pca_other'], azp: CLIENT_ID, exp: NOW_SECONDS - 30 };
    const { signIn } = await signedIn(fake);
    assert.deepEqual((await signIn()).idTokenClaims!.aud, [CLIENT_ID, 'pca_other']);
  });

  it('refuses an algorithm discovery does not list, and an unsigned token', async () => {
    const narrow = await fakeTessera({ metadata: { id_token_signing_alg_values_supported: ['RS256'] } });
    narrow.state.signWith = narrow.keys.es256;
    await assert.rejects((await signedIn(narrow)).signIn(), refusedIdToken(/signed with ES256/));

    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISSUER, sub: 'usr_1', aud: CLIENT_ID })).toString('base64url')}.`;
    const options: FakeOptions = { routes: { '/oauth/token': () => json({ access_token: 'pha_1', token_type: 'Bearer', expires_in: 3600, scope: 'openid', id_token: unsigned }) } };
    await assert.rejects((await signedIn(await fakeTessera(options))).signIn(), refusedIdToken(/not a signed JWT|signed with none/));
  });

  it('refuses a token response without the ID token openid asked for', async () => {
    const options: FakeOptions = { routes: { '/oauth/token': () => json({ access_token: 'pha_1', token_type: 'Bearer', expires_in: 3600, scope: 'openid project:read' }) } };
    await assert.rejects((await signedIn(await fakeTessera(options))).signIn(), refusedIdToken(/no ID token/));
  });

  it('reads the JWKS again once for an unknown kid: a rotated key verifies, an unpublished one is refused', async () => {
    const fake = await fakeTessera();
    const { signIn } = await signedIn(fake);
    await signIn();
    assert.equal(fake.count('/.well-known/jwks.json'), 1);
    await signIn();
    assert.equal(fake.count('/.well-known/jwks.json'), 1, 'known keys are not fetched again');

    fake.state.published = [fake.keys.rs256, fake.keys.rotated];
    fake.state.signWith = fake.keys.rotated;
    await signIn();
    assert.equal(fake.count('/.well-known/jwks.json'), 2);

    fake.state.signWith = { ...fake.keys.rotated, kid: 'never-published' };
    await assert.rejects(signIn(), refusedIdToken(/no RS256 key with kid never-published/));
    assert.equal(fake.count('/.well-known/jwks.json'), 3, 'one more read, not a loop');
  });
});

describe('client SDK: ID tokens after a refresh', () => {
  async function nearingExpiry(fake: FakeTessera) {
    const { client, store, signIn } = await signedIn(fake);
    const tokens = await signIn();
    await store.set({ ...tokens, expiresAt: NOW });
    return { client, store, tokens };
  }

  it('verifies the refreshed ID token and keeps its claims', async () => {
    const fake = await fakeTessera();
    const { client, store, tokens } = await nearingExpiry(fake);
    fake.state.claims = { name: 'Ada Lovelace' };
    assert.equal((await client.fetchApi('/api/organizations')).status, 200);
    const refreshed = (await store.get())!;
    assert.notEqual(refreshed.idToken, tokens.idToken);
    assert.equal(refreshed.idTokenClaims!.name, 'Ada Lovelace');
    assert.equal(refreshed.idTokenClaims!.nonce, undefined);
  });

  it('signs out when the refreshed ID token names another user', async () => {
    const fake = await fakeTessera();
    const { client, store } = await nearingExpiry(fake);
    fake.state.sub = 'usr_2';
    await assert.rejects(client.fetchApi('/api/organizations'), refusedIdToken(/another user/));
    assert.equal(await store.get(), undefined);
    await assert.rejects(client.fetchApi('/api/organizations'), SignedOutError);
  });

  it('keeps the rotated tokens and the earlier claims when the keys cannot be read just then', async () => {
    const fake = await fakeTessera();
    const { client, store, tokens } = await nearingExpiry(fake);
    fake.state.published = [fake.keys.rs256, fake.keys.rotated];
    fake.state.signWith = fake.keys.rotated;
    fake.state.jwksDown = true;
    assert.equal((await client.fetchApi('/api/organizations')).status, 200);
    const kept = (await store.get())!;
    assert.equal(kept.refreshToken, 'phr_2', 'the rotated refresh token is not lost');
    assert.equal(kept.idToken, tokens.idToken);
    assert.deepEqual(kept.idTokenClaims, tokens.idTokenClaims);
  });
});
