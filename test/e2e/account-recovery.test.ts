/**
 * Issue 15, item 13: "Forgot password?" mails a single-use link that expires in 30 minutes and is
 * stored hashed; the answer is the same with or without an account; the new password ends every
 * session of the user and writes an audit event; requests are limited per address and per account.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { listAudit } from '../../packages/server/src/core/audit.js';
import { listMail } from '../../packages/server/src/platform/mail.js';
import { hashToken } from '../../packages/server/src/core/crypto/token-formats.js';
import { storageTargets } from '../support/database.js';
import { PASSWORD, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const NEW_PASSWORD = 'amber kettle seventeen harbours';

async function askForReset(server: TestServer, email: string, headers: Record<string, string> = {}): Promise<{ status: number; html: string }> {
  const agent = new UserAgent(server.url);
  const page = await (await agent.request('/password/forgot', { headers })).text();
  const response = await agent.request('/password/forgot', { form: { _csrf: UserAgent.csrfToken(page), email }, headers });
  return { status: response.status, html: await response.text() };
}

async function resetLinks(server: TestServer, email: string): Promise<string[]> {
  return (await listMail(server.ctx.store, { to: email })).flatMap((mail) => /\/password\/reset\?token=(\S+)/.exec(mail.body)?.[1] ?? []);
}

async function setPassword(agent: UserAgent, token: string, password: string): Promise<Response> {
  const page = await agent.request(`/password/reset?token=${token}`);
  if (page.status !== 200) return page;
  return agent.request('/password/reset', { form: { _csrf: UserAgent.csrfToken(await page.text()), token, password } });
}

for (const target of storageTargets()) {
  describe(`account recovery (${target.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target);
    });
    after(() => server.close());

    it('links "Forgot password?" from the sign-in page', async () => {
      assert.match(await (await fetch(`${server.url}/login`)).text(), /<a href="\/password\/forgot">Forgot password\?<\/a>/);
    });

    it('answers the same with or without an account, and mails only an account', async () => {
      const user = await seedUser(server.ctx);
      const nobody = `nobody-${randomBytes(4).toString('hex')}@example.com`;
      const known = await askForReset(server, user.email);
      const unknown = await askForReset(server, nobody);
      assert.equal(known.status, 200);
      assert.equal(unknown.status, known.status);
      const normalise = (html: string, email: string) => html.replaceAll(email, '<email>');
      assert.equal(normalise(unknown.html, nobody), normalise(known.html, user.email));
      assert.equal((await resetLinks(server, user.email)).length, 1);
      assert.equal((await listMail(server.ctx.store, { to: nobody })).length, 0);
    });

    it('stores only the hash of a link, which works once and ends every session', async () => {
      const user = await seedUser(server.ctx);
      const laptop = new UserAgent(server.url);
      const phone = new UserAgent(server.url);
      await laptop.signIn(user.email, PASSWORD);
      await phone.signIn(user.email, PASSWORD);
      await askForReset(server, user.email);
      const [token] = await resetLinks(server, user.email);
      const stored = await server.db.selectFrom('password_resets').selectAll().where('user_id', '=', user.id).execute();
      assert.equal(stored.length, 1);
      assert.equal(stored[0]!.token_hash, hashToken(token!));
      assert.equal(stored[0]!.expires_at - stored[0]!.created_at, 30 * 60 * 1000);

      const browser = new UserAgent(server.url);
      const weak = await setPassword(browser, token!, 'password123');
      assert.equal(weak.status, 400);
      assert.match(await weak.text(), /too easy to guess/);

      const done = await setPassword(browser, token!, NEW_PASSWORD);
      assert.equal(done.status, 303);
      assert.equal(done.headers.get('location'), '/login?notice=password-changed');
      assert.match(await (await browser.request('/login?notice=password-changed')).text(), /Your password was changed/);
      for (const agent of [laptop, phone]) assert.equal((await agent.request('/')).headers.get('location'), '/login', 'every session ended');
      assert.equal((await server.db.selectFrom('sessions').select('id_hash').where('user_id', '=', user.id).execute()).length, 0);

      assert.equal((await setPassword(new UserAgent(server.url), token!, 'another fine long passphrase')).status, 400, 'the link works once');
      await assert.rejects(new UserAgent(server.url).signIn(user.email, PASSWORD));
      await new UserAgent(server.url).signIn(user.email, NEW_PASSWORD);

      const events = await listAudit(server.ctx.store, { userId: user.id });
      const reset = events.find((event) => event.type === 'password.reset');
      assert.ok(reset, 'password.reset recorded');
      assert.deepEqual(JSON.parse(reset.detail), { sessions_ended: 2 });
      assert.ok(events.some((event) => event.type === 'password.reset_requested'));
      assert.ok((await listMail(server.ctx.store, { to: user.email })).some((mail) => /password was changed/.test(mail.subject)));
    });

    it('refuses a link after 30 minutes, and a forged one', async () => {
      const user = await seedUser(server.ctx);
      await askForReset(server, user.email);
      const [token] = await resetLinks(server, user.email);
      server.advance(30 * 60 * 1000 + 1000);
      assert.equal((await setPassword(new UserAgent(server.url), token!, NEW_PASSWORD)).status, 400);
      assert.equal((await setPassword(new UserAgent(server.url), 'phpr_forged', NEW_PASSWORD)).status, 400);
      await new UserAgent(server.url).signIn(user.email, PASSWORD);
    });
  });

  describe(`account recovery limits (${target.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target, { TESSERA_RATE_LIMITS: 'true', TESSERA_RATE_LIMIT_LOGIN: '1000' });
    });
    after(() => server.close());

    it('sends one account at most three links per quarter hour, answering the same', async () => {
      const user = await seedUser(server.ctx);
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push((await askForReset(server, user.email)).status);
      assert.deepEqual(answers, [200, 200, 200, 200, 200]);
      assert.equal((await resetLinks(server, user.email)).length, 3);
    });
  });
}

describe('account recovery is limited per address', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(storageTargets()[0]!, { TESSERA_RATE_LIMITS: 'true', TESSERA_RATE_LIMIT_LOGIN: '3' });
  });
  after(() => server.close());

  it('answers 429 once an address has asked too often', async () => {
    const agent = new UserAgent(server.url);
    const csrf = UserAgent.csrfToken(await (await agent.request('/password/forgot')).text());
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await agent.request('/password/forgot', { form: { _csrf: csrf, email: `someone-${i}@example.com` } })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });
});
