/**
 * Runs Tessera with its real pino logger at trace level, drives a full flow through HTTP (sign-up,
 * email confirmation, a failed and a good sign-in, consent, code exchange, refresh, introspection,
 * userinfo, revocation, a bad client secret), collects every secret that crossed the wire, and
 * checks that none of them reached the log.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { listMail } from '../../packages/server/src/platform/mail.js';
import { s256 } from '../../packages/server/src/core/oauth/pkce.js';
import { sqliteTarget } from '../support/database.js';
import { basicAuth } from '../support/oauth-client.js';
import { seedClient } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://127.0.0.1:9999/callback';

describe('log hygiene', () => {
  let server: TestServer;
  let url: string;
  const log: string[] = [];
  /** Every secret seen on the wire, by what it is. */
  const secrets = new Map<string, string>();
  const remember = (what: string, value: string | undefined | null) => {
    assert.ok(value, `expected a ${what}`);
    secrets.set(`${what} #${secrets.size}`, value);
  };

  before(async () => {
    server = await startTestServer(sqliteTarget, {}, { logger: { level: 'trace', stream: { write: (line: string) => void log.push(line) } } });
    url = server.url;
  });
  after(() => server.close());

  it('never logs a password, code, token, client secret, session cookie or CSRF token', async () => {
    const agent = new UserAgent(url);
    /** Requests through the agent, remembering every cookie and CSRF token handed out. */
    const browse = async (path: string, init: Parameters<UserAgent['request']>[1] = {}) => {
      const response = await agent.request(path, init);
      for (const cookie of response.headers.getSetCookie()) {
        const value = cookie.split(';')[0]!.split('=').slice(1).join('=');
        if (value) remember(`cookie ${cookie.split('=')[0]}`, decodeURIComponent(value));
      }
      return response;
    };
    const page = async (path: string) => {
      const html = await (await browse(path)).text();
      const csrf = UserAgent.csrfToken(html);
      remember('CSRF token', csrf);
      return { html, csrf };
    };

    // Sign up, then create the account through the link in the outbox (a token in a GET URL).
    const email = `log-${randomBytes(4).toString('hex')}@example.com`;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    remember('password', password);
    const signup = await page('/signup');
    assert.equal((await browse('/signup', { form: { _csrf: signup.csrf, email, password, name: 'Log Test' } })).status, 200);
    const [mail] = await listMail(server.ctx.store, { to: email });
    const link = /https?:\/\/\S+\/signup\/confirm\?token=(\S+)/.exec(mail!.body);
    remember('sign-up confirmation token', link?.[1]);
    const confirmPage = await page(`/signup/confirm?token=${link![1]}`);
    const confirmed = await browse('/signup/confirm', { form: { _csrf: confirmPage.csrf, token: link![1]! } });
    assert.equal(confirmed.status, 303);

    // A failed sign-in, then a good one.
    const wrongPassword = `wrong-${randomBytes(12).toString('hex')}`;
    remember('wrong password', wrongPassword);
    const login = await page('/login');
    assert.equal((await browse('/login', { form: { _csrf: login.csrf, email, password: wrongPassword } })).status, 401);
    const again = await page('/login');
    assert.equal((await browse('/login', { form: { _csrf: again.csrf, email, password } })).status, 303);

    // Consent and a code.
    const { client, clientSecret } = await seedClient(server.ctx, { redirectUris: [REDIRECT] });
    remember('client secret', clientSecret);
    const verifier = randomBytes(32).toString('base64url');
    remember('code verifier', verifier);
    const authorize = `/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: REDIRECT,
      scope: 'openid email project:read',
      state: 'state-value',
      nonce: 'nonce-value',
      code_challenge: s256(verifier),
      code_challenge_method: 'S256',
    })}`;
    const consent = await page(authorize);
    const decided = await browse('/oauth/authorize', { form: { ...UserAgent.hiddenFields(consent.html), decision: 'allow' } });
    assert.equal(decided.status, 303);
    const code = new URL(decided.headers.get('location')!).searchParams.get('code');
    remember('authorization code', code);

    /** An OAuth endpoint's answer, read in full (Basic auth unless `authorization` is empty). */
    const oauthPost = async (path: string, form: Record<string, string>, authorization = basicAuth(client.id, clientSecret!)) => {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (authorization) headers.authorization = authorization;
      const response = await fetch(`${url}${path}`, { method: 'POST', headers, body: new URLSearchParams(form) });
      return { status: response.status, text: await response.text() };
    };
    const tokenRequest = async (form: Record<string, string>) => {
      const response = await oauthPost('/oauth/token', form);
      assert.equal(response.status, 200);
      const body = JSON.parse(response.text) as { access_token: string; refresh_token: string; id_token?: string };
      remember('access token', body.access_token);
      remember('refresh token', body.refresh_token);
      remember('ID token', body.id_token);
      return body;
    };
    const first = await tokenRequest({ grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT, code_verifier: verifier });
    const second = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token });

    assert.equal((await oauthPost('/oauth/introspect', { token: second.access_token })).status, 200);
    const userinfo = await fetch(`${url}/oauth/userinfo`, { headers: { authorization: `Bearer ${second.access_token}` } });
    assert.equal(userinfo.status, 200);
    const userinfoForm = await fetch(`${url}/oauth/userinfo`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `access_token=${second.access_token}` });
    assert.equal(userinfoForm.status, 200);
    assert.equal((await oauthPost('/oauth/revoke', { token: second.refresh_token })).status, 200);

    // A replayed code fails (and is logged as an error answer, without the code).
    assert.equal((await oauthPost('/oauth/token', { grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT, code_verifier: verifier })).status, 400);
    const badSecret = `pcs_${randomBytes(24).toString('hex')}`;
    remember('bad client secret', badSecret);
    assert.equal((await oauthPost('/oauth/token', { grant_type: 'refresh_token', refresh_token: second.refresh_token }, basicAuth(client.id, badSecret))).status, 401);
    assert.equal((await oauthPost('/oauth/token', { grant_type: 'refresh_token', refresh_token: second.refresh_token, client_id: client.id, client_secret: badSecret }, '')).status, 401);
    // Tokens in a query string where they do not belong.
    await fetch(`${url}/oauth/userinfo?access_token=${second.access_token}`);
    await fetch(`${url}/login?code=${code}&token=${second.refresh_token}`);

    // Account recovery: a reset link (a token in a GET URL) and a new password.
    const forgot = await page('/password/forgot');
    assert.equal((await browse('/password/forgot', { form: { _csrf: forgot.csrf, email } })).status, 200);
    const resetMail = (await listMail(server.ctx.store, { to: email })).find((mail) => mail.body.includes('/password/reset?token='));
    const resetToken = /\/password\/reset\?token=(\S+)/.exec(resetMail!.body)![1]!;
    remember('password reset token', resetToken);
    const newPassword = `new-pw-${randomBytes(12).toString('hex')}`;
    remember('new password', newPassword);
    const resetPage = await page(`/password/reset?token=${resetToken}`);
    assert.equal((await browse('/password/reset', { form: { _csrf: resetPage.csrf, token: resetToken, password: newPassword } })).status, 303);

    const text = log.join('');
    // The logger did run at trace level and saw these requests.
    assert.match(text, /"msg":"incoming request"/);
    assert.match(text, /\/signup\/confirm"/);
    assert.match(text, /\/password\/reset"/);
    assert.match(text, /\/oauth\/token"/);
    const leaked = [...secrets].filter(([, value]) => text.includes(value) || text.includes(encodeURIComponent(value)));
    assert.deepEqual(leaked.map(([what]) => what), [], 'secrets found in the log');
    assert.ok(secrets.size >= 15, `collected ${secrets.size} secrets`);
  });
});
