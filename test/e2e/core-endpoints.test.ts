/**
 * The foundation's HTTP surface: authorization errors (page vs redirect), token endpoint errors,
 * races on codes and refresh tokens, discovery, CORS, sessions and CSRF — on every storage target.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listMail } from '../../packages/server/src/platform/mail.js';
import { s256 } from '../../packages/server/src/core/oauth/pkce.js';
import { decideDeviceAuthorization, findPendingDeviceAuthorization } from '../../packages/server/src/core/oauth/device/verification.js';
import { storageTargets } from '../support/database.js';
import { basicAuth } from '../support/oauth-client.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://127.0.0.1:9999/callback';
const VERIFIER = 'k'.repeat(50);

function authorizeUrl(clientId: string, extra: Record<string, string | null> = {}): string {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: 'project:read',
    state: 'st@te with spaces',
    code_challenge: s256(VERIFIER),
    code_challenge_method: 'S256',
  });
  for (const [name, value] of Object.entries(extra)) value === null ? params.delete(name) : params.set(name, value);
  return `/oauth/authorize?${params}`;
}

for (const target of storageTargets()) {
  describe(`foundation endpoints over HTTP (${target.name})`, () => {
    let server: TestServer;
    let email: string;
    let clientId: string;
    let clientSecret: string;
    let agent: UserAgent;

    before(async () => {
      server = await startTestServer(target);
      email = (await seedUser(server.ctx)).email;
      const seeded = await seedClient(server.ctx, { redirectUris: [REDIRECT, 'http://127.0.0.1/loopback'] });
      clientId = seeded.client.id;
      clientSecret = seeded.clientSecret!;
      agent = new UserAgent(server.url);
      await agent.signIn(email, PASSWORD);
    });
    after(() => server.close());

    const token = (form: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(clientId, clientSecret), ...headers },
        body: new URLSearchParams(form),
      });

    async function freshCode(extra: Record<string, string | null> = {}): Promise<string> {
      const callback = await agent.authorize(authorizeUrl(clientId, extra));
      const code = callback.searchParams.get('code');
      assert.ok(code, `no code in ${callback}`);
      return code;
    }

    describe('authorization endpoint', () => {
      it('shows a page, never a redirect, for an unknown client or an unregistered redirect URI', async () => {
        for (const url of [
          authorizeUrl('pca_unknown'),
          authorizeUrl(clientId, { redirect_uri: 'http://127.0.0.1:9999/elsewhere' }),
          authorizeUrl(clientId, { redirect_uri: 'https://evil.example/callback' }),
          authorizeUrl(clientId, { redirect_uri: `${REDIRECT}?extra=1` }),
          authorizeUrl(clientId, { client_id: null }),
        ]) {
          const response = await agent.request(url);
          assert.equal(response.status, 400, url);
          assert.equal(response.headers.get('location'), null);
          assert.match(response.headers.get('content-type') ?? '', /text\/html/);
        }
      });

      it('redirects every other error with error, error_description, state and iss', async () => {
        const cases: Array<[Record<string, string | null>, string]> = [
          [{ response_type: 'token' }, 'unsupported_response_type'],
          [{ response_type: null }, 'invalid_request'],
          [{ code_challenge: null }, 'invalid_request'],
          [{ code_challenge_method: 'plain' }, 'invalid_request'],
          [{ code_challenge_method: null }, 'invalid_request'],
          [{ scope: 'project:read nonsense:read' }, 'invalid_scope'],
          [{ scope: null }, 'invalid_scope'],
          [{ prompt: 'bogus' }, 'invalid_request'],
        ];
        for (const [extra, error] of cases) {
          const response = await agent.request(authorizeUrl(clientId, extra));
          assert.equal(response.status, 302, JSON.stringify(extra));
          const location = new URL(response.headers.get('location')!);
          assert.equal(location.origin + location.pathname, REDIRECT);
          assert.equal(location.searchParams.get('error'), error, JSON.stringify(extra));
          assert.ok(location.searchParams.get('error_description'));
          assert.equal(location.searchParams.get('state'), 'st@te with spaces');
          assert.equal(location.searchParams.get('iss'), server.url);
        }
      });

      it('refuses a repeated parameter', async () => {
        const response = await agent.request(`${authorizeUrl(clientId)}&scope=project:read`);
        assert.equal(new URL(response.headers.get('location')!).searchParams.get('error'), 'invalid_request');
        const repeatedClient = await agent.request(`${authorizeUrl(clientId)}&client_id=${clientId}`);
        assert.equal(repeatedClient.status, 400);
      });

      it('sends a signed-out user to login and back to the same request', async () => {
        const stranger = new UserAgent(server.url);
        const first = await stranger.request(authorizeUrl(clientId));
        assert.equal(first.status, 302);
        const login = new URL(first.headers.get('location')!, server.url);
        assert.equal(login.pathname, '/login');
        const returnTo = login.searchParams.get('return_to')!;
        const sameRequest = (url: string) => Object.fromEntries(new URL(url, server.url).searchParams);
        assert.deepEqual(sameRequest(returnTo), sameRequest(authorizeUrl(clientId)));
        const page = await (await stranger.request(login.pathname + login.search)).text();
        const signedIn = await stranger.request('/login', { form: { _csrf: UserAgent.csrfToken(page), email, password: PASSWORD, return_to: returnTo } });
        assert.equal(signedIn.status, 303);
        assert.equal(signedIn.headers.get('location'), returnTo);
      });

      it('returns access_denied when the user denies', async () => {
        const callback = await agent.authorize(authorizeUrl(clientId, { scope: 'query:read' }), { decision: 'deny' });
        assert.equal(callback.searchParams.get('error'), 'access_denied');
        assert.equal(callback.searchParams.get('state'), 'st@te with spaces');
        assert.equal(callback.searchParams.get('iss'), server.url);
      });

      it('skips consent for scopes already granted, unless prompt=consent', async () => {
        await freshCode({ scope: 'organization:read' });
        const skipped = await agent.request(authorizeUrl(clientId, { scope: 'organization:read' }));
        assert.equal(skipped.status, 302);
        assert.ok(new URL(skipped.headers.get('location')!).searchParams.get('code'));
        const forced = await agent.request(authorizeUrl(clientId, { scope: 'organization:read', prompt: 'consent' }));
        assert.equal(forced.status, 200);
        assert.match(await forced.text(), /Authorize/);
      });

      it('matches a registered loopback redirect URI on any port', async () => {
        const response = await agent.request(authorizeUrl(clientId, { redirect_uri: 'http://127.0.0.1:53123/loopback', scope: 'organization:read' }));
        assert.equal(response.status, 302);
        assert.match(response.headers.get('location')!, /^http:\/\/127\.0\.0\.1:53123\/loopback\?code=/);
      });

      it('refuses a consent form without its CSRF token', async () => {
        const page = await (await agent.request(authorizeUrl(clientId, { scope: 'user:read' }))).text();
        const { _csrf: _dropped, ...fields } = UserAgent.hiddenFields(page);
        const response = await agent.request('/oauth/authorize', { form: { ...fields, decision: 'allow' } });
        assert.equal(response.status, 403);
        assert.equal(response.headers.get('location'), null);
      });
    });

    describe('token endpoint', () => {
      it('exchanges a code with a form body and with a JSON body', async () => {
        const form = await token({ grant_type: 'authorization_code', code: await freshCode(), redirect_uri: REDIRECT, code_verifier: VERIFIER });
        assert.equal(form.status, 200);
        assert.equal(form.headers.get('cache-control'), 'no-store');
        const body = (await form.json()) as Record<string, unknown>;
        assert.deepEqual(Object.keys(body).sort(), ['access_level', 'access_token', 'expires_in', 'refresh_token', 'scope', 'scoped_organizations', 'scoped_projects', 'token_type']);
        const json = await fetch(`${server.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'authorization_code', code: await freshCode(), redirect_uri: REDIRECT, code_verifier: VERIFIER, client_id: clientId, client_secret: clientSecret }),
        });
        assert.equal(json.status, 200);
      });

      it('answers errors per RFC 6749 §5.2, never cached', async () => {
        const cases: Array<[Response, number, string]> = [
          [await token({ grant_type: 'password', username: 'a', password: 'b' }), 400, 'unsupported_grant_type'],
          [await token({ grant_type: 'client_credentials' }), 400, 'unsupported_grant_type'],
          [await token({}), 400, 'invalid_request'],
          [await token({ grant_type: 'authorization_code', code: 'phac_bogus' }), 400, 'invalid_grant'],
          [await token({ grant_type: 'refresh_token' }), 400, 'invalid_request'],
          [await token({ grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basicAuth(clientId, 'pcs_wrong') }), 401, 'invalid_client'],
          [await token({ grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basicAuth('pca_nobody', 'x') }), 401, 'invalid_client'],
          [await token({ grant_type: 'refresh_token', refresh_token: 'x', client_secret: clientSecret }), 400, 'invalid_request'],
        ];
        for (const [response, status, error] of cases) {
          assert.equal(response.status, status, error);
          assert.equal(response.headers.get('cache-control'), 'no-store');
          const body = (await response.json()) as { error: string; error_description: string };
          assert.equal(body.error, error);
          assert.ok(body.error_description);
          if (status === 401) assert.match(response.headers.get('www-authenticate') ?? '', /^Basic/);
        }
        const noAuth = await fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x' });
        assert.equal(noAuth.status, 401);
      });

      it('refuses a repeated parameter and a malformed body', async () => {
        const repeated = await fetch(`${server.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(clientId, clientSecret) },
          body: 'grant_type=refresh_token&grant_type=authorization_code',
        });
        assert.equal(repeated.status, 400);
        assert.equal(((await repeated.json()) as { error: string }).error, 'invalid_request');
        const broken = await fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":' });
        assert.equal(broken.status, 400);
        assert.equal(((await broken.json()) as { error: string }).error, 'invalid_request');
      });

      it('lets exactly one of 50 concurrent redemptions of a code succeed', async () => {
        const code = await freshCode();
        const responses = await Promise.all(
          Array.from({ length: 50 }, () => token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: VERIFIER })),
        );
        const statuses = responses.map((r) => r.status);
        assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
        assert.equal(statuses.filter((s) => s === 400).length, 49);
        for (const response of responses.filter((r) => r.status === 400)) {
          assert.equal(((await response.json()) as { error: string }).error, 'invalid_grant');
        }
      });

      it('lets exactly one of 20 concurrent polls of an approved device code get tokens; the others, replays, revoke them', async () => {
        const { client } = await seedClient(server.ctx, { isPublic: true, redirectUris: [], grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'] });
        const started = (await (await fetch(`${server.url}/oauth/device_authorization`, { method: 'POST', body: new URLSearchParams({ client_id: client.id, scope: 'project:read' }) })).json()) as { device_code: string; user_code: string };
        const user = await server.ctx.store.accounts.findUserByEmail(email);
        const pending = (await findPendingDeviceAuthorization(server.ctx, started.user_code))!;
        const approval = { decision: 'allow', narrowing: { accessLevel: 'all', organizationIds: [], projectIds: [] } };
        assert.equal((await decideDeviceAuthorization(server.ctx, pending, { userId: user!.id, email, authTime: server.ctx.now(), amr: ['pwd'] }, approval)).kind, 'approved');
        const poll = () => fetch(`${server.url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: started.device_code, client_id: client.id }) });
        const responses = await Promise.all(Array.from({ length: 20 }, poll));
        const statuses = responses.map((r) => r.status);
        assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
        const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<{ error?: string; access_token?: string }>;
        assert.deepEqual([...new Set(bodies.filter((body) => body.error).map((body) => body.error))], ['invalid_grant']);
        const issued = bodies.find((body) => body.access_token)!;
        // 401, not 403 for the scope it lacks: the token itself is no longer valid.
        assert.equal((await fetch(`${server.url}/api/users/@me`, { headers: { authorization: `Bearer ${issued.access_token}` } })).status, 401);
      });

      it('gives 50 concurrent refreshes of one token the same successor, and the family stays valid', async () => {
        const first = (await (await token({ grant_type: 'authorization_code', code: await freshCode(), redirect_uri: REDIRECT, code_verifier: VERIFIER })).json()) as { refresh_token: string };
        const responses = await Promise.all(Array.from({ length: 50 }, () => token({ grant_type: 'refresh_token', refresh_token: first.refresh_token })));
        assert.deepEqual([...new Set(responses.map((r) => r.status))], [200]);
        const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<{ access_token: string; refresh_token: string }>;
        assert.equal(new Set(bodies.map((b) => b.refresh_token)).size, 1);
        assert.equal(new Set(bodies.map((b) => b.access_token)).size, 1);
        const next = await token({ grant_type: 'refresh_token', refresh_token: bodies[0]!.refresh_token });
        assert.equal(next.status, 200);
      });

      it('treats a public client that sends a placeholder secret as public', async () => {
        const seeded = await seedClient(server.ctx, { redirectUris: [REDIRECT], isPublic: true });
        const callback = await agent.authorize(authorizeUrl(seeded.client.id));
        const response = await fetch(`${server.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: VERIFIER, client_id: seeded.client.id, client_secret: 'placeholder' }),
        });
        assert.equal(response.status, 200);
      });
    });

    describe('discovery and CORS', () => {
      it('publishes RFC 8414 metadata with the configured issuer, whatever the Host header', async () => {
        const response = await fetch(`${server.url}/.well-known/oauth-authorization-server`, { headers: { host: 'evil.example' } });
        const metadata = (await response.json()) as Record<string, unknown>;
        assert.equal(metadata.issuer, server.url);
        assert.equal(metadata.authorization_endpoint, `${server.url}/oauth/authorize`);
        assert.equal(metadata.token_endpoint, `${server.url}/oauth/token`);
        assert.equal(metadata.revocation_endpoint, `${server.url}/oauth/revoke`);
        assert.equal(metadata.introspection_endpoint, `${server.url}/oauth/introspect`);
        assert.deepEqual(metadata.response_types_supported, ['code']);
        assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
        assert.equal(metadata.device_authorization_endpoint, `${server.url}/oauth/device_authorization`);
        assert.deepEqual(metadata.grant_types_supported, ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']);
        assert.deepEqual(metadata.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none']);
        assert.equal(metadata.authorization_response_iss_parameter_supported, true);
        assert.ok((metadata.scopes_supported as string[]).includes('annotation:write'));
      });

      it('opens CORS on discovery, token, revoke and introspect, not on pages', async () => {
        const origin = { origin: 'https://app.example' };
        for (const path of ['/.well-known/oauth-authorization-server']) {
          assert.equal((await fetch(server.url + path, { headers: origin })).headers.get('access-control-allow-origin'), '*');
        }
        for (const path of ['/oauth/token', '/oauth/revoke', '/oauth/introspect']) {
          const preflight = await fetch(server.url + path, { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST' } });
          assert.equal(preflight.headers.get('access-control-allow-origin'), '*', path);
        }
        const tokenAnswer = await fetch(server.url + '/oauth/token', { method: 'POST', headers: origin, body: new URLSearchParams({ grant_type: 'refresh_token' }) });
        assert.equal(tokenAnswer.headers.get('access-control-allow-origin'), '*');
        for (const path of ['/login', authorizeUrl(clientId)]) {
          assert.equal((await fetch(server.url + path, { headers: origin, redirect: 'manual' })).headers.get('access-control-allow-origin'), null, path);
        }
        const pagePreflight = await fetch(server.url + '/login', { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST' } });
        assert.equal(pagePreflight.headers.get('access-control-allow-origin'), null);
      });
    });

    describe('browser session', () => {
      it('sets an HttpOnly, SameSite=Lax session cookie and rotates it at every sign-in', async () => {
        const browser = new UserAgent(server.url);
        const cookies: string[] = [];
        for (let i = 0; i < 2; i++) {
          const page = await (await browser.request('/login')).text();
          const response = await browser.request('/login', { form: { _csrf: UserAgent.csrfToken(page), email, password: PASSWORD } });
          const cookie = response.headers.getSetCookie().find((c) => c.startsWith('tessera_session='))!;
          assert.match(cookie, /HttpOnly/i);
          assert.match(cookie, /SameSite=Lax/i);
          assert.doesNotMatch(cookie, /Secure/i);
          cookies.push(cookie.split(';')[0]!);
        }
        assert.notEqual(cookies[0], cookies[1]);
      });

      it('refuses a login form without its CSRF token, and a wrong password', async () => {
        const browser = new UserAgent(server.url);
        await browser.request('/login');
        assert.equal((await browser.request('/login', { form: { email, password: PASSWORD } })).status, 403);
        const page = await (await browser.request('/login')).text();
        const wrong = await browser.request('/login', { form: { _csrf: UserAgent.csrfToken(page), email, password: 'wrong password' } });
        assert.equal(wrong.status, 401);
        assert.match(await wrong.text(), /Incorrect email or password/);
      });

      it('never redirects a sign-in to another site', async () => {
        const browser = new UserAgent(server.url);
        for (const returnTo of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/oauth/../../evil']) {
          const page = await (await browser.request('/login')).text();
          const response = await browser.request('/login', { form: { _csrf: UserAgent.csrfToken(page), email, password: PASSWORD, return_to: returnTo } });
          assert.equal(response.status, 303);
          assert.equal(response.headers.get('location'), '/', returnTo);
        }
      });

      it('signs out with a CSRF-protected form', async () => {
        const browser = new UserAgent(server.url);
        await browser.signIn(email, PASSWORD);
        const home = await (await browser.request('/')).text();
        assert.match(home, new RegExp(`Signed in as ${email.replace('.', '\\.')}`));
        assert.equal((await browser.request('/logout', { form: { x: '1' } })).status, 403);
        assert.equal((await browser.request('/logout', { form: { _csrf: UserAgent.csrfToken(home) } })).status, 303);
        assert.equal((await browser.request('/')).headers.get('location'), '/login');
      });

      it('signs up; the first user of an instance is its admin', async () => {
        const first = await server.db.selectFrom('users').select(['email', 'is_admin']).orderBy('created_at').executeTakeFirstOrThrow();
        assert.equal(first.is_admin, 1);
        const browser = new UserAgent(server.url);
        const page = await (await browser.request('/signup')).text();
        const response = await browser.request('/signup', { form: { _csrf: UserAgent.csrfToken(page), email: 'New.Person@Example.com', password: 'long enough password', name: 'New' } });
        assert.equal(response.status, 200);
        assert.match(await response.text(), /Check your email/);
        const pending = await server.db.selectFrom('users').select('id').where('email', '=', 'new.person@example.com').executeTakeFirst();
        assert.equal(pending, undefined, 'no account before the link is followed');

        const [mail] = await listMail(server.ctx.store, { to: 'new.person@example.com' });
        const link = new URL(/https?:\/\/\S+\/signup\/confirm\?token=\S+/.exec(mail!.body)![0]);
        const confirmPage = await (await browser.request(link.pathname + link.search)).text();
        const confirmed = await browser.request('/signup/confirm', { form: { _csrf: UserAgent.csrfToken(confirmPage), token: link.searchParams.get('token')! } });
        assert.equal(confirmed.status, 303);
        assert.match(await (await browser.request('/')).text(), /Signed in as new\.person@example\.com/);
        const created = await server.db.selectFrom('users').select(['email', 'is_admin', 'email_verified']).where('email', '=', 'new.person@example.com').executeTakeFirstOrThrow();
        assert.equal(created.is_admin, 0);
        assert.equal(created.email_verified, 1, 'following the link confirmed the address');
        const again = await browser.request('/signup/confirm', { form: { _csrf: UserAgent.csrfToken(confirmPage), token: link.searchParams.get('token')! } });
        assert.equal(again.status, 400, 'a link works once');
      });
    });
  });
}

describe('configurable protections', () => {
  it('rate-limits login attempts per IP with 429 and Retry-After', async () => {
    const server = await startTestServer(storageTargets()[0]!, { TESSERA_RATE_LIMITS: 'true', TESSERA_RATE_LIMIT_LOGIN: '3' });
    try {
      const browser = new UserAgent(server.url);
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const page = await (await browser.request('/login')).text();
        const response = await browser.request('/login', { form: { _csrf: UserAgent.csrfToken(page), email: 'nobody@example.com', password: 'wrong password' } });
        statuses.push(response.status);
        retryAfter ??= response.headers.get('retry-after');
      }
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      assert.ok(Number(retryAfter) > 0);
    } finally {
      await server.close();
    }
  });

  it('turns sign-up off', async () => {
    const server = await startTestServer(storageTargets()[0]!, { TESSERA_SIGNUP: 'false' });
    try {
      assert.equal((await fetch(`${server.url}/signup`)).status, 404);
      assert.equal((await fetch(`${server.url}/signup/confirm?token=phsu_x`)).status, 404, 'a link sent before sign-up closed creates nothing');
      assert.doesNotMatch(await (await fetch(`${server.url}/login`)).text(), /Create an account/);
    } finally {
      await server.close();
    }
  });

  it('marks the session cookie Secure when the issuer is https', async () => {
    const server = await startTestServer(storageTargets()[0]!, { TESSERA_ISSUER: 'https://auth.example', TESSERA_SECRET_KEY: 'x'.repeat(40) });
    try {
      const user = await seedUser(server.ctx);
      const browser = new UserAgent(server.url);
      const page = await (await browser.request('/login')).text();
      const response = await browser.request('/login', { form: { _csrf: UserAgent.csrfToken(page), email: user.email, password: PASSWORD } });
      const cookie = response.headers.getSetCookie().find((c) => c.startsWith('tessera_session='))!;
      assert.match(cookie, /Secure/);
      assert.match(response.headers.get('strict-transport-security') ?? '', /max-age=/);
    } finally {
      await server.close();
    }
  });
});
