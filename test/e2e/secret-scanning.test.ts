/**
 * GitHub secret-scanning alerts over HTTP: signature verification against keys fetched from a
 * local key server, revocation of each token kind, labels, audit events and owner mail — on every
 * storage target.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createApiKey, findActiveApiKey } from '../../packages/server/src/platform/api-keys.js';
import { listAudit } from '../../packages/server/src/core/audit.js';
import { listMail } from '../../packages/server/src/platform/mail.js';
import { FULL_ACCESS } from '../../packages/server/src/core/oauth/narrowing.js';
import { generateToken, hashToken } from '../../packages/server/src/core/crypto/token-formats.js';
import { storageTargets } from '../support/database.js';
import { basicAuth, TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://127.0.0.1:9999/callback';
const FOUND_AT = 'https://github.com/octocat/Hello-World/blob/1234567/config.env';

function newSigningKey(keyIdentifier: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { keyIdentifier, privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}
type SigningKey = ReturnType<typeof newSigningKey>;

/** Serves GitHub's public-keys document and counts how often it is fetched. */
class KeyServer {
  published: SigningKey[] = [];
  fetches = 0;
  failing = false;
  private readonly server: Server = createServer((_request, response) => {
    this.fetches++;
    if (this.failing) return void response.writeHead(500).end();
    const public_keys = this.published.map((key, index) => ({ key_identifier: key.keyIdentifier, key: key.pem, is_current: index === 0 }));
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ public_keys }));
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/meta/public_keys/secret_scanning`;
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const signed = (body: string, key: { keyIdentifier: string; privateKey: KeyObject }) => ({
  'content-type': 'application/json',
  'github-public-key-identifier': key.keyIdentifier,
  'github-public-key-signature': sign('sha256', Buffer.from(body), { key: key.privateKey, dsaEncoding: 'der' }).toString('base64'),
});

for (const target of storageTargets()) {
  describe(`GitHub secret-scanning alerts (${target.name})`, () => {
    const keys = new KeyServer();
    const githubKey = newSigningKey('github-key-1');
    let server: TestServer;
    let email: string;
    let userId: string;
    let clientId: string;
    let clientSecret: string;
    let agent: UserAgent;
    let app: TestOAuthClient;

    before(async () => {
      keys.published = [githubKey];
      await keys.start();
      server = await startTestServer(target, { TESSERA_SECRET_SCANNING_KEYS_URL: keys.url });
      const user = await seedUser(server.ctx);
      email = user.email;
      userId = user.id;
      const seeded = await seedClient(server.ctx, { redirectUris: [REDIRECT] });
      clientId = seeded.client.id;
      clientSecret = seeded.clientSecret!;
      agent = new UserAgent(server.url);
      await agent.signIn(email, PASSWORD);
      app = await TestOAuthClient.discover(server.url, { clientId, clientSecret, redirectUri: REDIRECT });
    });
    after(async () => {
      await server.close();
      await keys.close();
    });

    const report = (body: string, headers: Record<string, string>) => fetch(`${server.url}/api/alerts/github`, { method: 'POST', headers, body });
    const oauth = (path: string, form: Record<string, string>) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(clientId, clientSecret) }, body: new URLSearchParams(form) });
    const introspect = async (token: string) => ((await (await oauth('/oauth/introspect', { token })).json()) as { active: boolean }).active;

    async function issueTokens(): Promise<{ access_token: string; refresh_token: string }> {
      const { url, codeVerifier, state } = await app.authorizationUrl('project:read');
      const { access_token, refresh_token } = await app.exchange(await agent.authorize(url.href), codeVerifier, state);
      return { access_token, refresh_token: refresh_token! };
    }

    it('revokes reported tokens of every kind and labels each report', async () => {
      const leakedAccess = await issueTokens();
      const leakedRefresh = await issueTokens();
      const { key: apiKey } = await createApiKey(server.ctx.store, { userId, label: 'CI', scopes: ['project:read'], narrowing: FULL_ACCESS }, server.ctx.now());
      const unknown = generateToken('accessToken');
      const wellFormed = generateToken('refreshToken');
      const wrongChecksum = wellFormed.slice(0, -1) + (wellFormed.endsWith('0') ? '1' : '0');
      const garbage = 'pha_not-a-token';
      const tokens = [leakedAccess.access_token, leakedRefresh.refresh_token, apiKey, unknown, wrongChecksum, garbage];
      const body = JSON.stringify(tokens.map((token) => ({ token, type: 'tessera_token', url: FOUND_AT, source: 'content' })));

      const response = await report(body, signed(body, githubKey));
      assert.equal(response.status, 200);
      assert.deepEqual(
        await response.json(),
        tokens.map((token, index) => ({ token_hash: hashToken(token), token_type: 'tessera_token', label: index < 3 ? 'true_positive' : 'false_positive' })),
      );

      // The leaked access token is dead; its family's refresh token did not leak and still works.
      assert.equal(await introspect(leakedAccess.access_token), false);
      assert.equal((await oauth('/oauth/token', { grant_type: 'refresh_token', refresh_token: leakedAccess.refresh_token })).status, 200);
      // The leaked refresh token takes its whole family with it.
      const refreshed = await oauth('/oauth/token', { grant_type: 'refresh_token', refresh_token: leakedRefresh.refresh_token });
      assert.equal(refreshed.status, 400);
      assert.equal(((await refreshed.json()) as { error: string }).error, 'invalid_grant');
      assert.equal(await introspect(leakedRefresh.access_token), false);
      assert.equal(await findActiveApiKey(server.ctx.store, apiKey), undefined);

      const events = await listAudit(server.ctx.store, { userId, type: 'secret_scanning.revoked' });
      assert.deepEqual(events.map((event) => JSON.parse(event.detail).token_type).sort(), ['access_token', 'personal_api_key', 'refresh_token']);
      for (const event of events) {
        assert.equal(event.actor, 'system:secret-scanning');
        assert.equal(JSON.parse(event.detail).url, FOUND_AT);
        for (const token of tokens) assert.ok(!event.detail.includes(token), 'the audit trail never holds a token');
      }

      const mail = await listMail(server.ctx.store, { to: email });
      assert.equal(mail.length, 3);
      for (const [index, name] of ['OAuth access token', 'OAuth refresh token', 'personal API key'].entries()) {
        const message = mail.find((item) => item.subject.includes(name));
        assert.ok(message, `a mail about the ${name}`);
        assert.match(message.body, new RegExp(`Token: ${tokens[index]!.slice(0, 8)}…`));
        assert.ok(message.body.includes(FOUND_AT));
        assert.ok(!message.body.includes(tokens[index]!) && !message.subject.includes(tokens[index]!), 'the mail never holds the token');
      }

      // Reported again: still ours, nothing left to revoke, nobody mailed twice.
      const again = await report(body, signed(body, githubKey));
      assert.deepEqual(((await again.json()) as Array<{ label: string }>).map((verdict) => verdict.label).slice(0, 3), ['true_positive', 'true_positive', 'true_positive']);
      assert.equal((await listMail(server.ctx.store, { to: email })).length, 3);
    });

    it('refuses reports without a valid signature and revokes nothing', async () => {
      const { access_token } = await issueTokens();
      const body = JSON.stringify([{ token: access_token, type: 'tessera_token', url: FOUND_AT, source: 'content' }]);
      const valid = signed(body, githubKey);
      const impostor = newSigningKey(githubKey.keyIdentifier);
      const cases: Array<[string, Record<string, string>]> = [
        ['no headers', { 'content-type': 'application/json' }],
        ['no signature', { 'content-type': 'application/json', 'github-public-key-identifier': githubKey.keyIdentifier }],
        ['no key identifier', { 'content-type': 'application/json', 'github-public-key-signature': valid['github-public-key-signature'] }],
        ['a signature over another body', signed(body.replace('content', 'commit'), githubKey)],
        ['a signature by another key', signed(body, impostor)],
        ['a signature that is not DER', { ...valid, 'github-public-key-signature': 'bm90IGEgc2lnbmF0dXJl' }],
        ['an unknown key identifier', signed(body, { ...githubKey, keyIdentifier: 'unknown-key' })],
      ];
      for (const [name, headers] of cases) {
        const response = await report(body, headers);
        assert.equal(response.status, 401, name);
        assert.equal(((await response.json()) as { error: string }).error, 'invalid_request', name);
      }
      assert.equal(await introspect(access_token), true);
    });

    it('caches the keys a day, refetches at most once a minute for an unknown key identifier, and survives a key server outage', async () => {
      const rotated = newSigningKey('github-key-2');
      keys.published = [rotated, githubKey];
      const body = '[]';
      const fetches = keys.fetches;
      // The previous test's unknown key identifier refetched just now, so the new key is not seen yet.
      assert.equal((await report(body, signed(body, rotated))).status, 401);
      assert.equal((await report(body, signed(body, githubKey))).status, 200);
      assert.equal(keys.fetches, fetches);
      server.advance(61_000);
      assert.equal((await report(body, signed(body, rotated))).status, 200);
      assert.equal((await report(body, signed(body, { ...rotated, keyIdentifier: 'still-unknown' }))).status, 401);
      assert.equal(keys.fetches, fetches + 1);

      // While the key server is down, known keys still verify and an unknown one asks GitHub to retry.
      keys.failing = true;
      server.advance(25 * 3600 * 1000);
      assert.equal((await report(body, signed(body, rotated))).status, 200);
      server.advance(61_000);
      const unavailable = await report(body, signed(body, { ...rotated, keyIdentifier: 'new-key' }));
      assert.equal(unavailable.status, 503);
      assert.equal(((await unavailable.json()) as { error: string }).error, 'temporarily_unavailable');
      assert.equal(keys.fetches, fetches + 3);
      keys.failing = false;
    });

    it('answers a signed but malformed report with invalid_request', async () => {
      const item = { token: generateToken('accessToken'), type: 'tessera_token', url: FOUND_AT, source: 'content' };
      for (const body of ['{"token":"x"}', 'not json', '[{"type":"tessera_token"}]', '[{"token":42}]', '[null]', JSON.stringify(Array(1001).fill(item))]) {
        const response = await report(body, signed(body, githubKey));
        assert.equal(response.status, 400, body.slice(0, 40));
        assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
      }
    });
  });
}
