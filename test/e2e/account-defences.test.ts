/**
 * Issue 15, items 10 and 11: password checks have limits, and sign-up neither accepts easily
 * guessed passwords nor tells who has an account.
 *
 * - The Connected apps password re-check is limited per IP and per account, like sign-in.
 * - Sign-in is limited per account (the normalised email), whatever address or proxy header the
 *   attempts come with: after TESSERA_ACCOUNT_LOCKOUT_FAILURES failures the account is locked for
 *   TESSERA_ACCOUNT_LOCKOUT_SECONDS, its owner gets one mail per lock-out, and an address without an
 *   account is answered exactly the same way.
 * - Sign-up refuses common passwords; sign-up for an existing address answers like a new one and
 *   mails the owner.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { listMail } from '../../packages/server/src/platform/mail.js';
import { s256 } from '../../packages/server/src/core/oauth/pkce.js';
import { tesseraCli } from '../support/cli.js';
import { storageTargets } from '../support/database.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://127.0.0.1:9999/callback';
const freshIp = () => `2001:db8:${randomBytes(2).toString('hex')}::${randomBytes(2).toString('hex')}`;

async function loginAttempt(server: TestServer, email: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
  const agent = new UserAgent(server.url);
  const csrf = UserAgent.csrfToken(await (await agent.request('/login', { headers })).text());
  return agent.request('/login', { form: { _csrf: csrf, email, password }, headers });
}

/** A signed-in agent whose session is older than the re-check window, with one connected app. */
async function staleSessionWithApp(server: TestServer, email: string): Promise<{ agent: UserAgent; csrf: string; clientId: string }> {
  const agent = new UserAgent(server.url);
  const csrf = await agent.signIn(email, PASSWORD);
  const { client } = await seedClient(server.ctx, { redirectUris: [REDIRECT] });
  const url = `/oauth/authorize?${new URLSearchParams({
    response_type: 'code', client_id: client.id, redirect_uri: REDIRECT, scope: 'project:read', code_challenge: s256('a'.repeat(43)), code_challenge_method: 'S256',
  })}`;
  await agent.authorize(url);
  server.advance(11 * 60 * 1000);
  return { agent, csrf, clientId: client.id };
}

for (const target of storageTargets()) {
  describe(`password checks have limits (${target.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target, {
        TESSERA_RATE_LIMITS: 'true',
        // High enough per IP that only the per-account limit is met in the sign-in tests.
        TESSERA_RATE_LIMIT_LOGIN: '1000',
        TESSERA_ACCOUNT_LOCKOUT_FAILURES: '3',
        TESSERA_ACCOUNT_LOCKOUT_SECONDS: '900',
      });
    });
    after(() => server.close());

    it('locks an account after repeated failures whatever address they come from, and mails its owner once', async () => {
      const user = await seedUser(server.ctx);
      // Spoofed proxy headers and new addresses change nothing: the count is the account's.
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        statuses.push((await loginAttempt(server, i % 2 ? user.email.toUpperCase() : user.email, 'not-the-password', { 'x-forwarded-for': freshIp() })).status);
      }
      assert.deepEqual(statuses, [401, 401, 429], 'the third failure locks the account');
      const locked = await loginAttempt(server, user.email, PASSWORD, { 'x-forwarded-for': freshIp() });
      assert.equal(locked.status, 429, 'even the right password waits out the lock-out');
      const retryAfter = Number(locked.headers.get('retry-after'));
      assert.ok(retryAfter > 0 && retryAfter <= 900, `Retry-After ${retryAfter}`);
      assert.match(await locked.text(), /Too many failed sign-in attempts/);
      assert.equal((await loginAttempt(server, user.email, 'still-not-it')).status, 429);

      const mails = (await listMail(server.ctx.store, { to: user.email })).filter((mail) => /paused/i.test(mail.subject));
      assert.equal(mails.length, 1, 'one mail per lock-out');
      assert.doesNotMatch(mails[0]!.body, /not-the-password|still-not-it/);
    });

    it('answers an address without an account exactly as one with an account', async () => {
      const nobody = `nobody-${randomBytes(4).toString('hex')}@example.com`;
      for (let i = 0; i < 2; i++) assert.equal((await loginAttempt(server, nobody, 'not-the-password')).status, 401);
      assert.equal((await loginAttempt(server, nobody, 'not-the-password')).status, 429);
      const locked = await loginAttempt(server, nobody, 'not-the-password');
      assert.equal(locked.status, 429);
      assert.match(await locked.text(), /Too many failed sign-in attempts/);
      assert.equal((await listMail(server.ctx.store, { to: nobody })).length, 0);
    });

    it('counts wrong passwords on the Connected apps re-check against the account', async () => {
      const user = await seedUser(server.ctx);
      const { agent, csrf, clientId } = await staleSessionWithApp(server, user.email);
      const recheck = (password: string) => agent.request('/settings/connected-apps/revoke', { form: { _csrf: csrf, client_id: clientId, confirm: 'yes', password } });
      for (let i = 0; i < 2; i++) assert.equal((await recheck('not-the-password')).status, 401, `attempt ${i + 1}`);
      assert.equal((await recheck('not-the-password')).status, 429);
      const locked = await recheck(PASSWORD);
      assert.equal(locked.status, 429);
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
      assert.equal((await loginAttempt(server, user.email, PASSWORD)).status, 429, 'sign-in is locked too');
    });
  });

  describe(`the Connected apps re-check is limited per IP (${target.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target, { TESSERA_RATE_LIMITS: 'true', TESSERA_RATE_LIMIT_LOGIN: '5', TESSERA_ACCOUNT_LOCKOUT_FAILURES: '1000' });
    });
    after(() => server.close());

    it('answers 429 once an address has checked too many passwords', async () => {
      const user = await seedUser(server.ctx);
      const { agent, csrf, clientId } = await staleSessionWithApp(server, user.email);
      const statuses: number[] = [];
      for (let i = 0; i < 15; i++) {
        statuses.push((await agent.request('/settings/connected-apps/revoke', { form: { _csrf: csrf, client_id: clientId, confirm: 'yes', password: `wrong ${i}` } })).status);
      }
      // The sign-in above used one request of this address's budget.
      assert.ok(statuses.slice(0, 4).every((status) => status === 401), statuses.join(','));
      assert.ok(statuses.slice(5).every((status) => status === 429), statuses.join(','));
    });
  });

  describe(`sign-up (${target.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target);
    });
    after(() => server.close());

    async function signUp(email: string, password: string, name = 'New Person'): Promise<{ response: Response; html: string; agent: UserAgent }> {
      const agent = new UserAgent(server.url);
      const page = await (await agent.request('/signup')).text();
      const response = await agent.request('/signup', { form: { _csrf: UserAgent.csrfToken(page), email, password, name } });
      return { response, html: await response.text(), agent };
    }

    it('shows the password rule before the user types', async () => {
      const html = await (await new UserAgent(server.url).request('/signup')).text();
      assert.match(html, /id="password-rule"/);
      assert.match(html, /aria-describedby="password-rule"/);
      assert.match(html, /hard to guess/);
    });

    it('refuses common and easily guessed passwords', async () => {
      for (const password of ['password', '12345678', 'qwertyuiop', 'newperson2024']) {
        const { response, html } = await signUp(`weak-${randomBytes(3).toString('hex')}@example.com`, password);
        assert.equal(response.status, 400, password);
        assert.match(html, /too easy to guess/, password);
      }
    });

    it('answers sign-up for an existing address exactly as for a new one, and mails the owner instead', async () => {
      const owner = await seedUser(server.ctx);
      const strong = 'violet tractor ninety lanterns';
      const fresh = `fresh-${randomBytes(4).toString('hex')}@example.com`;
      const forNew = await signUp(fresh, strong);
      const forExisting = await signUp(owner.email, strong);
      assert.equal(forExisting.response.status, forNew.response.status);
      const normalise = (html: string, email: string) => html.replace(/name="_csrf" value="[^"]+"/g, '').replaceAll(email, '<email>');
      assert.equal(normalise(forExisting.html, owner.email), normalise(forNew.html, fresh));
      assert.doesNotMatch(forExisting.html, /already exists/);
      assert.equal(forExisting.response.headers.getSetCookie().some((cookie) => cookie.startsWith('tessera_session=')), false, 'no session for an address one does not own');
      const ownerMail = await listMail(server.ctx.store, { to: owner.email });
      assert.equal(ownerMail.length, 1);
      assert.match(ownerMail[0]!.body, /already has an account/);
    });
  });
}

describe('tessera user create refuses easily guessed passwords', () => {
  const tessera = tesseraCli();
  after(() => tessera.dispose());

  it('exits 2 with the reason', async () => {
    const result = await tessera('user', 'create', '--email', 'ops@example.com', '--password', 'password1');
    assert.equal(result.status, 2);
    assert.match(result.stderr, /too easy to guess/);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) process.stderr.write('note: TEST_REDIS_URL is not set; the account lock-out test across two instances is skipped\n');

describe('the account lock-out is shared through Redis by two instances', { skip: redisUrl ? false : 'TEST_REDIS_URL is not set' }, () => {
  let first: TestServer;
  let second: TestServer;
  before(async () => {
    const env = { TESSERA_RATE_LIMITS: 'true', TESSERA_RATE_LIMIT_LOGIN: '1000', TESSERA_ACCOUNT_LOCKOUT_FAILURES: '3', REDIS_URL: redisUrl!, TESSERA_REDIS_PREFIX: `tessera-test-${randomBytes(6).toString('hex')}:` };
    first = await startTestServer(storageTargets()[0]!, env);
    second = await startTestServer(storageTargets()[0]!, env);
  });
  after(async () => {
    await first?.close();
    await second?.close();
  });

  it('counts failures for one address on both instances', async () => {
    const email = `shared-${randomBytes(4).toString('hex')}@example.com`;
    const statuses = [];
    for (const server of [first, second, first]) statuses.push((await loginAttempt(server, email, 'not-the-password')).status);
    assert.deepEqual(statuses, [401, 401, 429]);
    assert.equal((await loginAttempt(second, email, 'not-the-password')).status, 429);
  });
});

describe('the account lock-out while Redis cannot be reached', () => {
  let server: TestServer;
  before(async () => {
    // Nothing listens on port 1: every Redis command fails, and the counters fall back to this instance's memory.
    server = await startTestServer(storageTargets()[0]!, { TESSERA_RATE_LIMITS: 'true', TESSERA_RATE_LIMIT_LOGIN: '1000', TESSERA_ACCOUNT_LOCKOUT_FAILURES: '3', REDIS_URL: 'redis://127.0.0.1:1' });
  });
  after(() => server.close());

  it('still locks the account, counting on the instance', async () => {
    const user = await seedUser(server.ctx);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await loginAttempt(server, user.email, 'not-the-password')).status);
    assert.deepEqual(statuses, [401, 401, 429]);
    assert.equal((await loginAttempt(server, user.email, PASSWORD)).status, 429);
  });
});
