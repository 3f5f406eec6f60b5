/**
 * Settings › Recent activity: a user sees their own audit events (time, event, app, IP), never
 * another user's, at most the last 100, with every value HTML-escaped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordAudit } from '../../packages/server/src/core/audit.js';
import { s256 } from '../../packages/server/src/core/oauth/pkce.js';
import { storageTargets } from '../support/database.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://127.0.0.1:9999/callback';
const HOSTILE_NAME = '<script>alert("x")</script> & Co';

const unescape = (html: string) => html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** The rows of the activity table, as [time, event, app, device, ip] in plain text. */
function rows(html: string): string[][] {
  const body = /<tbody>([\s\S]*)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((cell) => unescape(cell[1]!)));
}

for (const target of storageTargets()) {
  describe(`recent activity page (${target.name})`, () => {
    let server: TestServer;
    let ada: UserAgent;
    let adaId: string;
    let graceId: string;
    let clientId: string;

    before(async () => {
      server = await startTestServer(target);
      const adaUser = await seedUser(server.ctx);
      const graceUser = await seedUser(server.ctx);
      adaId = adaUser.id;
      graceId = graceUser.id;
      clientId = (await seedClient(server.ctx, { name: HOSTILE_NAME, redirectUris: [REDIRECT] })).client.id;
      ada = new UserAgent(server.url);
      await ada.signIn(adaUser.email, PASSWORD);
    });
    after(() => server.close());

    it('sends a signed-out visitor to sign in', async () => {
      const response = await new UserAgent(server.url).request('/settings/activity');
      assert.equal(response.status, 303);
      assert.match(response.headers.get('location') ?? '', /^\/login\?return_to=%2Fsettings%2Factivity$/);
    });

    it('lists events of a real authorization, with the app name escaped', async () => {
      const url = `/oauth/authorize?${new URLSearchParams({
        response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: 'project:read', code_challenge: s256('a'.repeat(43)), code_challenge_method: 'S256',
      })}`;
      const callback = await ada.authorize(url);
      assert.ok(callback.searchParams.get('code'));

      const response = await ada.request('/settings/activity');
      assert.equal(response.status, 200);
      const html = await response.text();
      assert.ok(!/<script/i.test(html), 'the app name is escaped');
      const [first] = rows(html);
      assert.ok(first, 'one row at least');
      assert.match(first[0]!, /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
      assert.equal(first[1], 'You authorized an app');
      assert.equal(first[2], HOSTILE_NAME);
      assert.equal(first[4], '127.0.0.1');
      assert.match(html, /aria-current="page"[^>]*>Recent activity|href="\/settings\/activity" aria-current="page"/);
    });

    it('never shows another user’s events, and shows at most the last 100', async () => {
      const now = server.ctx.now();
      await recordAudit(server.ctx.store, { type: 'api_key.created', userId: graceId, actor: graceId, ip: '203.0.113.99', detail: {} }, now + 10_000);
      await recordAudit(server.ctx.store, { type: 'consent.granted', userId: graceId, actor: graceId, clientId, ip: '203.0.113.98' }, now + 10_000);
      for (let i = 0; i < 105; i++) {
        await recordAudit(server.ctx.store, { type: 'token.refreshed', userId: adaId, actor: `client:${clientId}`, clientId, ip: `198.51.100.${i}` }, now + i);
      }
      const html = await (await ada.request('/settings/activity')).text();
      assert.ok(!html.includes('203.0.113.9'), 'another user’s event is shown');
      const shown = rows(html);
      assert.equal(shown.length, 100);
      assert.deepEqual(shown[0]!.slice(1), ['App renewed its access', HOSTILE_NAME, '—', '198.51.100.104']);
      assert.equal(shown[99]![4], '198.51.100.5');
    });

    it('records sign-ins, successful and failed, with the IP and the browser', async () => {
      const user = await seedUser(server.ctx);
      const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
      const agent = new UserAgent(server.url);
      const login = async (password: string) => {
        const page = await (await agent.request('/login')).text();
        const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
        return agent.request('/login', { form: { _csrf: csrf, email: user.email, password }, headers: { 'user-agent': firefox } });
      };
      assert.equal((await login('not the password at all')).status, 401);
      assert.equal((await login(PASSWORD)).status, 303);
      const shown = rows(await (await agent.request('/settings/activity')).text());
      assert.deepEqual(shown.map((row) => row.slice(1)), [
        ['Signed in', '—', 'Firefox on Linux', '127.0.0.1'],
        ['Failed sign-in: wrong password', '—', 'Firefox on Linux', '127.0.0.1'],
      ]);
    });

    it('labels every event for what it is: an app revoking its refresh token is not one access token', async () => {
      const user = await seedUser(server.ctx);
      const agent = new UserAgent(server.url);
      await agent.signIn(user.email, PASSWORD);
      const now = server.ctx.now() + 60_000;
      const revoked = (tokenType: string, at: number) =>
        recordAudit(server.ctx.store, { type: 'token.revoked', userId: user.id, actor: `client:${clientId}`, clientId, detail: { token_type: tokenType } }, at);
      await revoked('access_token', now);
      await revoked('refresh_token', now + 1);
      const shown = rows(await (await agent.request('/settings/activity')).text());
      assert.equal(shown[0]![1], 'App signed out: it revoked its refresh token and every access token issued with it');
      assert.equal(shown[1]![1], 'App revoked one of its access tokens');
    });

    it('is linked from the home page', async () => {
      const html = await (await ada.request('/')).text();
      assert.match(html, /href="\/settings\/activity"/);
    });
  });
}
