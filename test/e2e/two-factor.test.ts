/**
 * Issue 15, item 14: two-factor sign-in with TOTP (RFC 6238). Enrolment with a QR code and ten
 * recovery codes shown once and stored hashed, the secret sealed at rest; the code asked after the
 * password (a pending state that cannot be skipped or replayed, with limited guesses, and a TOTP
 * step never accepted twice); turning it off needs the password or a code; `tessera user
 * reset-2fa`; ID tokens with `amr` and, when asked, `acr`; organizations that require two-factor
 * sign-in for apps reading their data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import * as OTPAuth from 'otpauth';
import { addMember } from '../../packages/server/src/platform/accounts/organizations.js';
import { listAudit } from '../../packages/server/src/core/audit.js';
import { hashToken } from '../../packages/server/src/core/crypto/token-formats.js';
import { ACR_PASSWORD, ACR_TWO_FACTOR } from '../../packages/server/src/core/oidc/acr.js';
import { tesseraCli } from '../support/cli.js';
import { storageTargets } from '../support/database.js';
import { PASSWORD, seedClient, seedOrganization, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

/** The CLI's DATABASE_URL for a test server: on PostgreSQL it names the suite's own schema. */
const REDIRECT_URI = 'http://127.0.0.1:9999/callback';

/** The code an authenticator app shows at the server's current time (its clock can be moved). */
function codeAt(server: TestServer, secret: string, offsetSteps = 0): string {
  return OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: server.ctx.now() + offsetSteps * 30_000 });
}

function unescapeHtml(value: string): string {
  return value.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"');
}

/** Turns two-factor sign-in on through Settings › Security; returns the secret and the recovery codes. */
async function enrol(server: TestServer, agent: UserAgent, csrf: string): Promise<{ secret: string; codes: string[]; page: string }> {
  const page = await (await agent.request('/settings/security/two-factor/start', { form: { _csrf: csrf } })).text();
  const secret = /id="totp-secret">([A-Z2-7]+)</.exec(page)![1]!;
  const confirmed = await agent.request('/settings/security/two-factor/confirm', { form: { _csrf: csrf, code: codeAt(server, secret) } });
  assert.equal(confirmed.status, 200);
  const html = await confirmed.text();
  const codes = [...html.matchAll(/<li><code>([a-z2-7-]+)<\/code><\/li>/g)].map((match) => match[1]!);
  return { secret, codes, page };
}

/** Password, then (if asked) the code. Returns the response to the last step. */
async function signInWithCode(agent: UserAgent, email: string, code: string | undefined, password = PASSWORD): Promise<Response> {
  const csrf = UserAgent.csrfToken(await (await agent.request('/login')).text());
  const first = await agent.request('/login', { form: { _csrf: csrf, email, password } });
  if (first.headers.get('location') !== '/login/two-factor' || code === undefined) return first;
  const page = await (await agent.request('/login/two-factor')).text();
  return agent.request('/login/two-factor', { form: { _csrf: UserAgent.csrfToken(page), code } });
}

const sessionCookie = (response: Response) => response.headers.getSetCookie().some((cookie) => cookie.startsWith('tessera_session=') && !/max-age=0/i.test(cookie));

for (const target of storageTargets()) {
  describe(`two-factor sign-in (${target.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target);
    });
    after(() => server.close());

    async function enrolledUser() {
      const user = await seedUser(server.ctx);
      const agent = new UserAgent(server.url);
      const csrf = await agent.signIn(user.email, PASSWORD);
      return { user, agent, csrf, ...(await enrol(server, agent, csrf)) };
    }

    it('enrols with a QR code and a first code; seals the secret; shows ten recovery codes once and stores their hashes', async () => {
      const user = await seedUser(server.ctx);
      const agent = new UserAgent(server.url);
      const csrf = await agent.signIn(user.email, PASSWORD);
      assert.match(await (await agent.request('/settings/security')).text(), /<strong>Off\.<\/strong>/);

      const page = await (await agent.request('/settings/security/two-factor/start', { form: { _csrf: csrf } })).text();
      assert.match(page, /<img class="qr" src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+"/);
      const secret = /id="totp-secret">([A-Z2-7]+)</.exec(page)![1]!;
      const stored = await server.db.selectFrom('two_factor').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
      assert.equal(stored.confirmed_at, null);
      assert.ok(!stored.secret_sealed.includes(secret), 'the secret is sealed at rest');

      const wrong = await agent.request('/settings/security/two-factor/confirm', { form: { _csrf: csrf, code: codeAt(server, secret, 10) } });
      assert.equal(wrong.status, 400);
      const confirmed = await agent.request('/settings/security/two-factor/confirm', { form: { _csrf: csrf, code: codeAt(server, secret) } });
      const codes = [...(await confirmed.text()).matchAll(/<li><code>([a-z2-7-]+)<\/code><\/li>/g)].map((match) => match[1]!);
      assert.equal(codes.length, 10);
      assert.equal(new Set(codes).size, 10);
      const hashes = (await server.db.selectFrom('recovery_codes').select('code_hash').where('user_id', '=', user.id).execute()).map((row) => row.code_hash);
      assert.deepEqual(hashes.sort(), codes.map((code) => hashToken(code.replaceAll('-', ''))).sort());
      const security = await (await agent.request('/settings/security')).text();
      assert.match(security, /<strong>On\.<\/strong>/);
      assert.doesNotMatch(security, new RegExp(codes[0]!), 'recovery codes are shown only once');
      assert.ok((await listAudit(server.ctx.store, { userId: user.id })).some((event) => event.type === 'two_factor.enabled'));
    });

    it('asks for the code after the password; the pending step can be neither skipped nor replayed', async () => {
      const { user, secret } = await enrolledUser();
      server.advance(30_000);
      const agent = new UserAgent(server.url);
      const csrf = UserAgent.csrfToken(await (await agent.request('/login')).text());
      const password = await agent.request('/login', { form: { _csrf: csrf, email: user.email, password: PASSWORD, return_to: '/settings/security' } });
      assert.equal(password.status, 303);
      assert.equal(password.headers.get('location'), '/login/two-factor?return_to=%2Fsettings%2Fsecurity');
      assert.equal(sessionCookie(password), false, 'no session before the second factor');
      assert.equal((await agent.request('/settings/security')).status, 303, 'skipping the code leaves the user signed out');

      const page = await (await agent.request('/login/two-factor')).text();
      const wrong = await agent.request('/login/two-factor', { form: { _csrf: UserAgent.csrfToken(page), code: '000000' === codeAt(server, secret) ? '111111' : '000000' } });
      assert.equal(wrong.status, 401);
      assert.match(await wrong.text(), /4 tries left/);
      const cookieBefore = agent.cookieHeader();
      const right = await agent.request('/login/two-factor', { form: { _csrf: UserAgent.csrfToken(page), code: codeAt(server, secret), return_to: '/settings/security' } });
      assert.equal(right.status, 303);
      assert.equal(right.headers.get('location'), '/settings/security');
      assert.ok(sessionCookie(right));
      const session = await server.db.selectFrom('sessions').select('amr').where('user_id', '=', user.id).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
      assert.equal(session.amr, 'pwd otp');

      // The pending sign-in was used up: replaying its cookie gets nowhere.
      const replay = await fetch(`${server.url}/login/two-factor`, {
        method: 'POST',
        headers: { cookie: cookieBefore, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: UserAgent.csrfToken(page), code: codeAt(server, secret) }),
        redirect: 'manual',
      });
      assert.equal(replay.status, 303);
      assert.match(replay.headers.get('location')!, /^\/login\?notice=sign-in-expired/);
      assert.equal(sessionCookie(replay), false);

      // The same code (the same time step) is not accepted twice, even in a new sign-in.
      const again = await signInWithCode(new UserAgent(server.url), user.email, codeAt(server, secret));
      assert.equal(again.status, 401);
      server.advance(30_000);
      assert.equal((await signInWithCode(new UserAgent(server.url), user.email, codeAt(server, secret))).status, 303);
    });

    it('ends a pending sign-in after five wrong codes', async () => {
      const { user } = await enrolledUser();
      const agent = new UserAgent(server.url);
      await signInWithCode(agent, user.email, undefined);
      const page = await (await agent.request('/login/two-factor')).text();
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await agent.request('/login/two-factor', { form: { _csrf: UserAgent.csrfToken(page), code: `99999${i}` } })).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 303]);
      assert.equal((await agent.request('/login/two-factor')).status, 303, 'the password must be entered again');
    });

    it('signs in once with each recovery code', async () => {
      const { user, codes } = await enrolledUser();
      const first = await signInWithCode(new UserAgent(server.url), user.email, codes[3]!.toUpperCase());
      assert.equal(first.status, 303);
      assert.equal((await signInWithCode(new UserAgent(server.url), user.email, codes[3]!)).status, 401, 'a recovery code works once');
      assert.ok((await listAudit(server.ctx.store, { userId: user.id })).some((event) => event.type === 'two_factor.recovery_code_used'));
      assert.match(await (await (await (async () => {
        const agent = new UserAgent(server.url);
        await signInWithCode(agent, user.email, codes[4]!);
        return agent;
      })()).request('/settings/security')).text(), /8 of 10 recovery codes/);
    });

    it('turns two-factor sign-in off only with the password or a code; new recovery codes replace the old', async () => {
      const { user, agent, csrf, secret, codes } = await enrolledUser();
      const refused = await agent.request('/settings/security/two-factor/disable', { form: { _csrf: csrf, proof: 'not my password' } });
      assert.equal(refused.status, 401);
      server.advance(30_000);
      const regenerated = await agent.request('/settings/security/recovery-codes', { form: { _csrf: csrf, proof: codeAt(server, secret) } });
      assert.equal(regenerated.status, 200);
      const fresh = [...(await regenerated.text()).matchAll(/<li><code>([a-z2-7-]+)<\/code><\/li>/g)].map((match) => match[1]!);
      assert.equal(fresh.length, 10);
      assert.equal((await signInWithCode(new UserAgent(server.url), user.email, codes[0]!)).status, 401, 'old recovery codes stop working');

      const off = await agent.request('/settings/security/two-factor/disable', { form: { _csrf: csrf, proof: PASSWORD } });
      assert.equal(off.status, 200);
      assert.match(await off.text(), /Two-factor sign-in is off/);
      const plain = await signInWithCode(new UserAgent(server.url), user.email, undefined);
      assert.equal(plain.headers.get('location'), '/');
      const types = (await listAudit(server.ctx.store, { userId: user.id })).map((event) => event.type);
      assert.ok(types.includes('two_factor.disabled') && types.includes('two_factor.recovery_codes_regenerated'));
    });

    it('lets an instance admin reset two-factor sign-in with tessera user reset-2fa', async () => {
      const { user } = await enrolledUser();
      const tessera = tesseraCli({ databaseUrl: server.cliDatabaseUrl });
      const result = await tessera('user', 'reset-2fa', '--email', user.email.toUpperCase(), '--json');
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(result.json(), { email: user.email, two_factor_reset: true });
      assert.equal((await tessera('user', 'reset-2fa', '--email', 'nobody@example.com')).status, 2);
      assert.equal((await server.db.selectFrom('two_factor').select('user_id').where('user_id', '=', user.id).execute()).length, 0);
      const reset = (await listAudit(server.ctx.store, { userId: user.id })).find((event) => event.type === 'two_factor.reset');
      assert.equal(reset?.actor, 'system:cli');
      assert.equal((await signInWithCode(new UserAgent(server.url), user.email, undefined)).headers.get('location'), '/');
    });

    describe('amr and acr in ID tokens', () => {
      async function relyingParty() {
        const { client, clientSecret } = await seedClient(server.ctx, { redirectUris: [REDIRECT_URI] });
        return oidc.discovery(new URL(server.url), client.id, { client_secret: clientSecret! }, oidc.ClientSecretPost(clientSecret!), { execute: [oidc.allowInsecureRequests] });
      }

      async function authorizationUrl(config: oidc.Configuration, extra: Record<string, string>) {
        const codeVerifier = oidc.randomPKCECodeVerifier();
        const nonce = oidc.randomNonce();
        const state = oidc.randomState();
        const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', nonce, state, code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256', ...extra });
        return { url, codeVerifier, nonce, state };
      }

      async function idToken(config: oidc.Configuration, agent: UserAgent, extra: Record<string, string> = {}) {
        const { url, codeVerifier, nonce, state } = await authorizationUrl(config, extra);
        const callback = await agent.authorize(url.href);
        const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedNonce: nonce, expectedState: state });
        return { claims: decodeJwt(tokens.id_token!), tokens };
      }

      it('advertises the acr vocabulary', async () => {
        const metadata = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
        assert.deepEqual(metadata.acr_values_supported, [ACR_PASSWORD, ACR_TWO_FACTOR]);
        assert.equal(metadata.claims_parameter_supported, true);
      });

      it('says how the user signed in, and the acr when the request asked for it, also after a refresh', async () => {
        const config = await relyingParty();
        const { agent } = await enrolledUser();
        const plain = await idToken(config, agent);
        assert.deepEqual(plain.claims.amr, ['pwd', 'otp']);
        assert.equal(plain.claims.acr, undefined);
        const asked = await idToken(config, agent, { acr_values: ACR_TWO_FACTOR });
        assert.equal(asked.claims.acr, ACR_TWO_FACTOR);
        const refreshed = await oidc.refreshTokenGrant(config, asked.tokens.refresh_token!);
        assert.equal(decodeJwt(refreshed.id_token!).acr, ACR_TWO_FACTOR);
        assert.deepEqual(decodeJwt(refreshed.id_token!).amr, ['pwd', 'otp']);
      });

      it('answers a password-only sign-in: voluntary acr as it is, essential two-factor as unmet', async () => {
        const config = await relyingParty();
        const user = await seedUser(server.ctx);
        const agent = new UserAgent(server.url);
        await agent.signIn(user.email, PASSWORD);
        const voluntary = await idToken(config, agent, { acr_values: ACR_TWO_FACTOR });
        assert.equal(voluntary.claims.acr, ACR_PASSWORD);
        assert.deepEqual(voluntary.claims.amr, ['pwd']);
        const { url } = await authorizationUrl(config, { claims: JSON.stringify({ id_token: { acr: { essential: true, values: [ACR_TWO_FACTOR] } } }) });
        const refused = await agent.authorize(url.href);
        assert.equal(refused.searchParams.get('error'), 'unmet_authentication_requirements');
        const malformed = await agent.authorize((await authorizationUrl(config, { claims: '{not json' })).url.href);
        assert.equal(malformed.searchParams.get('error'), 'invalid_request');
      });

      it('sends a user with two-factor sign-in whose session was password-only to sign in again (step-up)', async () => {
        const config = await relyingParty();
        const { user, agent } = await enrolledUser();
        // A session from before enrolment: password only.
        await server.db.updateTable('sessions').set({ amr: 'pwd' }).where('user_id', '=', user.id).execute();
        const { url } = await authorizationUrl(config, { acr_values: ACR_TWO_FACTOR });
        const stepUp = await agent.authorize(url.href);
        assert.equal(stepUp.pathname, '/login');
        assert.match(stepUp.searchParams.get('return_to')!, /^\/oauth\/authorize\?/);
      });
    });

    describe('organizations that require two-factor sign-in', () => {
      it('keeps their data from tokens of a password-only sign-in, through the resource toolkit', async () => {
        const { user: owner, agent: ownerAgent, csrf: ownerCsrf } = await enrolledUser();
        const { organization, projects } = await seedOrganization(server.ctx, owner.id, 'Strict Org', ['Secrets']);
        const { organization: relaxed } = await seedOrganization(server.ctx, owner.id, 'Relaxed Org', []);
        const member = await seedUser(server.ctx);
        await addMember(server.ctx.store, { organizationId: organization.id, userId: member.id, role: 'member' }, server.ctx.now());
        await addMember(server.ctx.store, { organizationId: relaxed.id, userId: member.id, role: 'member' }, server.ctx.now());

        // Only an owner may require it.
        const memberAgent = new UserAgent(server.url);
        const memberCsrf = await memberAgent.signIn(member.email, PASSWORD);
        const notOwner = await memberAgent.request('/settings/security/organizations', { form: { _csrf: memberCsrf, organization_id: organization.id, require: 'on' } });
        assert.equal(notOwner.status, 403);
        const required = await ownerAgent.request('/settings/security/organizations', { form: { _csrf: ownerCsrf, organization_id: organization.id, require: 'on' } });
        assert.equal(required.status, 200);
        assert.match(unescapeHtml(await required.text()), /Two-factor sign-in required/);
        assert.ok((await listAudit(server.ctx.store, { userId: owner.id })).some((event) => event.type === 'organization.two_factor_required'));

        const { client, clientSecret } = await seedClient(server.ctx, { redirectUris: [REDIRECT_URI] });
        const config = await oidc.discovery(new URL(server.url), client.id, { client_secret: clientSecret! }, oidc.ClientSecretPost(clientSecret!), { execute: [oidc.allowInsecureRequests] });
        async function accessToken(agent: UserAgent): Promise<string> {
          const codeVerifier = oidc.randomPKCECodeVerifier();
          const state = oidc.randomState();
          const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'organization:read project:read', state, code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256' });
          const callback = await agent.authorize(url.href);
          return (await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state })).access_token;
        }
        const api = (token: string, path: string) => fetch(`${server.url}/api${path}`, { headers: { authorization: `Bearer ${token}` } });

        const passwordOnly = await accessToken(memberAgent);
        const refusedOrg = await api(passwordOnly, `/organizations/${organization.id}`);
        assert.equal(refusedOrg.status, 403);
        assert.match(((await refusedOrg.json()) as { error_description: string }).error_description, /requires two-factor sign-in/);
        assert.equal((await api(passwordOnly, `/projects/${projects[0]!.id}`)).status, 403);
        assert.equal((await api(passwordOnly, `/organizations/${relaxed.id}`)).status, 200, 'other organizations are unaffected');
        const listed = (await (await api(passwordOnly, '/organizations')).json()) as { results: Array<{ id: string }> };
        assert.deepEqual(listed.results.map((row) => row.id), [relaxed.id]);

        // With two-factor sign-in and a new authorization, the app may read it.
        const { secret } = await enrol(server, memberAgent, memberCsrf);
        server.advance(30_000);
        const twoFactorAgent = new UserAgent(server.url);
        assert.equal((await signInWithCode(twoFactorAgent, member.email, codeAt(server, secret))).status, 303);
        const strong = await accessToken(twoFactorAgent);
        assert.equal((await api(strong, `/organizations/${organization.id}`)).status, 200);
        assert.equal((await api(strong, `/projects/${projects[0]!.id}`)).status, 200);
      });

      it('asks an owner to turn on two-factor sign-in before requiring it', async () => {
        const owner = await seedUser(server.ctx);
        const { organization } = await seedOrganization(server.ctx, owner.id, 'Lax Owner Org', []);
        const agent = new UserAgent(server.url);
        const csrf = await agent.signIn(owner.email, PASSWORD);
        const refused = await agent.request('/settings/security/organizations', { form: { _csrf: csrf, organization_id: organization.id, require: 'on' } });
        assert.equal(refused.status, 403);
        assert.match(await refused.text(), /Turn on two-factor sign-in for yourself first/);
      });
    });
  });

  describe(`two-factor guesses count against the account (${target.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target, { TESSERA_RATE_LIMITS: 'true', TESSERA_RATE_LIMIT_LOGIN: '1000', TESSERA_ACCOUNT_LOCKOUT_FAILURES: '7' });
    });
    after(() => server.close());

    it('locks the account when wrong codes follow the right password, however often the password is re-entered', async () => {
      const user = await seedUser(server.ctx);
      const agent = new UserAgent(server.url);
      await enrol(server, agent, await agent.signIn(user.email, PASSWORD));
      const statuses: number[] = [];
      for (let round = 0; round < 2; round++) {
        const guesser = new UserAgent(server.url);
        const first = await signInWithCode(guesser, user.email, undefined);
        statuses.push(first.status);
        if (first.status !== 303) break;
        const page = await (await guesser.request('/login/two-factor')).text();
        for (let i = 0; i < 5; i++) statuses.push((await guesser.request('/login/two-factor', { form: { _csrf: UserAgent.csrfToken(page), code: `12345${i}` } })).status);
      }
      // Five wrong codes end the first pending sign-in; the seventh failure locks the account.
      assert.deepEqual(statuses, [303, 401, 401, 401, 401, 303, 303, 401, 429, 429, 429, 429]);
      const mail = await server.db.selectFrom('outbox').select('body').where('to_address', '=', user.email).where('subject', 'like', '%paused%').execute();
      assert.equal(mail.length, 1);
      assert.match(mail[0]!.body, /right password was entered/);
    });
  });
}
