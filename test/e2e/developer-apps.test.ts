/**
 * Settings › Developers › Apps over HTTP on every storage target: who may create apps, the secret
 * shown once, validation on the page, edits, logo uploads, secret rotation, deletion, isolation
 * between organizations, and `tessera app verify`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addMember } from '../../packages/server/src/platform/accounts/organizations.js';
import { setClientVerified as setAppVerified } from '../../packages/server/src/core/clients/admin.js';
import { s256 } from '../../packages/server/src/core/oauth/pkce.js';
import { hashToken } from '../../packages/server/src/core/crypto/token-formats.js';
import { tesseraCli } from '../support/cli.js';
import { storageTargets } from '../support/database.js';
import { basicAuth, TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedOrganization, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

/** The CLI's DATABASE_URL for a test server: on PostgreSQL it names the suite's own schema. */
const APPS = '/settings/developers/apps';
const REDIRECT = 'http://127.0.0.1:9999/callback';
const VERIFIER = 'v'.repeat(50);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(200)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(200)]);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

function authorizeUrl(clientId: string, scope = 'openid project:read'): string {
  const params = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope, state: 's', code_challenge: s256(VERIFIER), code_challenge_method: 'S256' });
  return `/oauth/authorize?${params}`;
}

/** The CSRF token of the settings page (its sign-out form carries one for every signed-in user). */
async function csrf(agent: UserAgent): Promise<string> {
  return UserAgent.csrfToken(await (await agent.request(APPS)).text());
}

/** UserAgent sends urlencoded forms only; a logo upload is multipart, sent with the agent's cookies. */
async function postMultipart(agent: UserAgent, path: string, fields: Record<string, string | string[]>, logo?: { bytes: Buffer; type: string }): Promise<Response> {
  const form = new FormData();
  form.append('_csrf', await csrf(agent));
  for (const [name, value] of Object.entries(fields)) for (const item of [value].flat()) form.append(name, item);
  if (logo) form.append('logo', new Blob([new Uint8Array(logo.bytes)], { type: logo.type }), 'logo');
  return fetch(new URL(path, agent.baseUrl), { method: 'POST', body: form, headers: { cookie: agent.cookieHeader() }, redirect: 'manual' });
}

const createdIds = (html: string) => ({
  clientId: /id="client-id">(pca_[^<]+)</.exec(html)?.[1],
  clientSecret: /id="client-secret">(pcs_[^<]+)</.exec(html)?.[1],
});

for (const target of storageTargets()) {
  describe(`developer apps over HTTP (${target.name})`, () => {
    let server: TestServer;
    let acmeId: string;
    const agents: Record<'owner' | 'admin' | 'member' | 'outsider', UserAgent> = {} as never;

    before(async () => {
      server = await startTestServer(target);
      const owner = await seedUser(server.ctx);
      const admin = await seedUser(server.ctx);
      const member = await seedUser(server.ctx);
      const outsider = await seedUser(server.ctx);
      acmeId = (await seedOrganization(server.ctx, owner.id, 'Acme')).organization.id;
      await addMember(server.ctx.store, { organizationId: acmeId, userId: admin.id, role: 'admin' }, server.ctx.now());
      await addMember(server.ctx.store, { organizationId: acmeId, userId: member.id, role: 'member' }, server.ctx.now());
      await seedOrganization(server.ctx, outsider.id, 'Globex');
      for (const [role, user] of Object.entries({ owner, admin, member, outsider })) {
        agents[role as keyof typeof agents] = new UserAgent(server.url);
        await agents[role as keyof typeof agents].signIn(user.email, PASSWORD);
      }
    });
    after(() => server.close());

    const appFields = (overrides: Record<string, string | string[]> = {}) => ({
      organization_id: acmeId,
      name: 'Pocket Stats',
      description: 'Charts in your pocket',
      redirect_uris: REDIRECT,
      scope: ['openid', 'profile', 'project:read'],
      client_type: 'confidential',
      ...overrides,
    });

    async function createApp(agent: UserAgent, overrides: Record<string, string | string[]> = {}): Promise<Response> {
      return agent.request(APPS, { form: { _csrf: await csrf(agent), ...appFields(overrides) } });
    }

    async function createdApp(overrides: Record<string, string | string[]> = {}) {
      const response = await createApp(agents.owner, overrides);
      assert.equal(response.status, 201);
      const { clientId, clientSecret } = createdIds(await response.text());
      assert.ok(clientId);
      return { clientId, clientSecret: clientSecret! };
    }

    const token = (clientId: string, secret: string, form: Record<string, string>) =>
      fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { authorization: basicAuth(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
    const introspect = async (clientId: string, secret: string, accessToken: string) => {
      const response = await fetch(`${server.url}/oauth/introspect`, { method: 'POST', headers: { authorization: basicAuth(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: accessToken }) });
      return (await response.json()) as { active: boolean };
    };
    const userinfo = (accessToken: string) => fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });

    /** Signs the owner in to the app and redeems the code: the tokens a real app would hold. */
    async function tokensFor(clientId: string, secret: string) {
      const app = await TestOAuthClient.discover(server.url, { clientId, clientSecret: secret, redirectUri: REDIRECT });
      const { url, codeVerifier, state } = await app.authorizationUrl('openid project:read');
      const { access_token, refresh_token } = await app.exchange(await agents.owner.authorize(url.href), codeVerifier, state);
      return { access_token, refresh_token: refresh_token! };
    }

    it('lets only owners and admins create apps, and shows the secret once, stored hashed', async () => {
      for (const agent of [agents.member, agents.outsider]) {
        const refused = await createApp(agent);
        assert.equal(refused.status, 403);
        assert.match(await refused.text(), /Only owners and admins/);
      }
      assert.equal((await agents.member.request(`${APPS}/new`)).status, 403);
      assert.match(await (await agents.member.request(APPS)).text(), /Only owners and admins of an organization can create apps/);
      assert.equal(await server.db.selectFrom('clients').select('id').where('kind', '=', 'app').executeTakeFirst(), undefined);

      assert.equal((await agents.owner.request(`${APPS}/new`)).status, 200);
      const created = await createApp(agents.owner);
      assert.equal(created.status, 201);
      assert.equal(created.headers.get('cache-control'), 'no-store');
      const { clientId, clientSecret } = createdIds(await created.text());
      assert.match(clientId ?? '', /^pca_/);
      assert.match(clientSecret ?? '', /^pcs_/);
      const row = await server.db.selectFrom('clients').selectAll().where('id', '=', clientId!).executeTakeFirstOrThrow();
      assert.equal(row.kind, 'app');
      assert.equal(row.organization_id, acmeId);
      assert.equal(row.secret_hash, hashToken(clientSecret!));
      assert.equal(row.scope_ceiling, 'openid profile project:read');
      for (const page of [APPS, `${APPS}/${clientId}`]) {
        const html = await (await agents.owner.request(page)).text();
        assert.ok(html.includes(clientId!));
        assert.ok(!html.includes(clientSecret!), `${page} shows the secret again`);
      }
      const audit = await server.db.selectFrom('audit_events').selectAll().where('client_id', '=', clientId!).execute();
      assert.deepEqual(audit.map((event) => event.type), ['app.created']);

      const byAdmin = await createApp(agents.admin, { name: 'Admin Tool', client_type: 'public', redirect_uris: 'com.example.admintool:/callback' });
      assert.equal(byAdmin.status, 201);
      const publicApp = createdIds(await byAdmin.text());
      assert.equal(publicApp.clientSecret, undefined);
      const publicRow = await server.db.selectFrom('clients').selectAll().where('id', '=', publicApp.clientId!).executeTakeFirstOrThrow();
      assert.equal(publicRow.is_public, 1);
      assert.equal(publicRow.secret_hash, null);
      assert.match(await (await agents.owner.request(APPS)).text(), /Admin Tool/);
    });

    it('shows validation errors on the page, keeping what was typed', async () => {
      const cases: Array<[Record<string, string | string[]>, RegExp]> = [
        [{ name: 'Official Stats' }, /must not contain/],
        [{ name: 'verified helper' }, /must not contain/],
        [{ name: 'TESSERA Connect' }, /must not contain/],
        [{ name: 'T\u0435ssera Connect' }, /must not contain .*in any letters that look like them/],
        [{ name: '\u039Ffficial Stats' }, /must not contain/],
        [{ name: 'Pocket\u200BStats' }, /invisible or direction-changing/],
        [{ name: '' }, /name must be 1 to 100/],
        [{ redirect_uris: 'javascript:alert(1)' }, /Redirect URL javascript:alert\(1\) uses the forbidden scheme/],
        [{ redirect_uris: 'data:text/html,hi' }, /forbidden scheme/],
        [{ redirect_uris: 'file:///etc/passwd' }, /forbidden scheme/],
        [{ redirect_uris: 'myapp:/cb' }, /private-use scheme/],
        [{ redirect_uris: 'https://app.example/cb#frag' }, /fragment/],
        [{ redirect_uris: 'http://app.example/cb' }, /unless it is on a loopback host/],
        [{ redirect_uris: 'https://user:pw@app.example/cb' }, /user name or password/],
        [{ redirect_uris: '' }, /The app must list at least one redirect URI/],
        [{ redirect_uris: '', sign_in: 'browser_and_device' }, /The app must list at least one redirect URI/],
        [{ scope: [] }, /The app must list at least one scope/],
        [{ scope: ['project:read', 'root:everything'] }, /must list only known scopes, not root:everything/],
        [{ logo_url: 'http://cdn.example/logo.png' }, /logo URL must be an https URL/],
        [{ logo_url: 'https://user:pw@cdn.example/logo.png' }, /logo URL must not contain a user name or password/],
      ];
      for (const [overrides, message] of cases) {
        const response = await createApp(agents.owner, { name: 'Kept Name', ...overrides });
        assert.equal(response.status, 400, JSON.stringify(overrides));
        const html = await response.text();
        assert.match(html, /class="error" role="alert"/);
        assert.match(html, message, JSON.stringify(overrides));
        if (!('name' in overrides)) assert.match(html, /value="Kept Name"/);
      }
      const accepted = await createApp(agents.owner, { name: 'Multi', redirect_uris: `https://app.example/cb\r\nhttp://[::1]/cb\r\ncom.example.multi:/cb` });
      assert.equal(accepted.status, 201);
      const { clientId } = createdIds(await accepted.text());
      const row = await server.db.selectFrom('clients').select('redirect_uris').where('id', '=', clientId!).executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(row.redirect_uris), ['https://app.example/cb', 'http://[::1]/cb', 'com.example.multi:/cb']);
    });

    it('edits the name, description, redirect URLs and scope ceiling', async () => {
      const { clientId } = await createdApp({ name: 'Before' });
      const page = `${APPS}/${clientId}`;
      const saved = await agents.admin.request(page, {
        form: { _csrf: await csrf(agents.admin), name: 'After', description: 'New words', redirect_uris: `${REDIRECT}\nhttps://after.example/cb`, scope: ['annotation:write'], logo_url: 'https://cdn.example/after.png' },
      });
      assert.equal(saved.status, 303);
      assert.equal(saved.headers.get('location'), `${page}?saved=1`);
      const html = await (await agents.owner.request(`${page}?saved=1`)).text();
      assert.match(html, /Changes saved/);
      assert.match(html, /value="After"/);
      assert.match(html, /https:\/\/after\.example\/cb/);
      const row = await server.db.selectFrom('clients').selectAll().where('id', '=', clientId).executeTakeFirstOrThrow();
      assert.equal(row.name, 'After');
      assert.equal(row.description, 'New words');
      assert.equal(row.scope_ceiling, 'annotation:write');
      assert.equal(row.logo_uri, 'https://cdn.example/after.png');
      assert.deepEqual(JSON.parse(row.redirect_uris), [REDIRECT, 'https://after.example/cb']);
      const types = await server.db.selectFrom('audit_events').select('type').where('client_id', '=', clientId).execute();
      assert.ok(types.some((event) => event.type === 'app.updated'));

      const invalid = await agents.owner.request(page, { form: { _csrf: await csrf(agents.owner), name: 'Tessera Official', redirect_uris: REDIRECT, scope: 'openid' } });
      assert.equal(invalid.status, 400);
      assert.match(await invalid.text(), /must not contain/);
      const unchanged = await server.db.selectFrom('clients').select('name').where('id', '=', clientId).executeTakeFirstOrThrow();
      assert.equal(unchanged.name, 'After');
    });

    it('issues refresh tokens only to an app that keeps them on', async () => {
      const withRefresh = await createdApp({ name: 'Refreshing' });
      assert.match((await tokensFor(withRefresh.clientId, withRefresh.clientSecret)).refresh_token ?? '', /^phr_/);
      const without = await createdApp({ name: 'Short Lived', refresh_tokens: 'off' });
      const row = await server.db.selectFrom('clients').select('grant_types').where('id', '=', without.clientId).executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(row.grant_types), ['authorization_code']);
      assert.equal((await tokensFor(without.clientId, without.clientSecret)).refresh_token, undefined);
      assert.match(await (await agents.owner.request(`${APPS}/${without.clientId}`)).text(), /name="refresh_tokens" value="off" checked/);

      // Turned off later: the app's refresh tokens stop working at once.
      const held = await tokensFor(withRefresh.clientId, withRefresh.clientSecret);
      const page = `${APPS}/${withRefresh.clientId}`;
      const saved = await agents.owner.request(page, { form: { _csrf: await csrf(agents.owner), name: 'Refreshing', redirect_uris: REDIRECT, scope: ['openid', 'profile', 'project:read'], refresh_tokens: 'off' } });
      assert.equal(saved.status, 303);
      const refused = await token(withRefresh.clientId, withRefresh.clientSecret, { grant_type: 'refresh_token', refresh_token: held.refresh_token });
      assert.equal(refused.status, 400);
      assert.equal(((await refused.json()) as { error: string }).error, 'unauthorized_client');
    });

    it('registers an app for device sign-in when the form asks, and for it alone without redirect URLs', async () => {
      const startDeviceSignIn = (app: { clientId: string; clientSecret: string }) =>
        fetch(`${server.url}/oauth/device_authorization`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(app.clientId, app.clientSecret) },
          body: new URLSearchParams({ scope: 'project:read' }),
        });
      const grantTypesOf = async (clientId: string) => JSON.parse((await server.db.selectFrom('clients').select('grant_types').where('id', '=', clientId).executeTakeFirstOrThrow()).grant_types) as string[];

      const both = await createdApp({ name: 'Hog TV', sign_in: 'browser_and_device' });
      assert.deepEqual(await grantTypesOf(both.clientId), ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']);
      assert.match(await (await agents.owner.request(`${APPS}/${both.clientId}`)).text(), /name="sign_in" value="browser_and_device" checked/);
      assert.equal((await startDeviceSignIn(both)).status, 200);

      const deviceOnly = await createdApp({ name: 'Hog Box', sign_in: 'device', redirect_uris: '' });
      assert.deepEqual(await grantTypesOf(deviceOnly.clientId), ['refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']);
      const row = await server.db.selectFrom('clients').select('redirect_uris').where('id', '=', deviceOnly.clientId).executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(row.redirect_uris), []);
      assert.match(await (await agents.owner.request(`${APPS}/${deviceOnly.clientId}`)).text(), /name="sign_in" value="device" checked/);
      assert.equal((await startDeviceSignIn(deviceOnly)).status, 200);
      // It has no code flow: the authorization endpoint has nowhere to send anyone back.
      assert.equal((await agents.owner.request(authorizeUrl(deviceOnly.clientId))).status, 400);

      // Turning browser sign-in on later needs a redirect URL.
      const edit = async (fields: Record<string, string>) =>
        agents.owner.request(`${APPS}/${deviceOnly.clientId}`, { form: { _csrf: await csrf(agents.owner), name: 'Hog Box', scope: ['project:read'], ...fields } });
      const refused = await edit({ sign_in: 'browser_and_device', redirect_uris: '' });
      assert.equal(refused.status, 400);
      assert.match(await refused.text(), /The app must list at least one redirect URI/);
      assert.equal((await edit({ sign_in: 'browser_and_device', redirect_uris: REDIRECT })).status, 303);
      assert.deepEqual(await grantTypesOf(deviceOnly.clientId), ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']);
    });

    it('a lowered scope ceiling reaches existing grants: refreshes, access tokens and skipped consent lose the removed scopes', async () => {
      const { clientId, clientSecret } = await createdApp({ name: 'Shrinking', scope: ['openid', 'project:read', 'annotation:write'] });
      const app = await TestOAuthClient.discover(server.url, { clientId, clientSecret, redirectUri: REDIRECT });
      const signIn = async (agent: UserAgent, scope: string) => {
        const { url, codeVerifier, state } = await app.authorizationUrl(scope);
        return app.exchange(await agent.authorize(url.href), codeVerifier, state);
      };
      const full = await signIn(agents.owner, 'openid project:read annotation:write');
      const writeOnly = await signIn(agents.admin, 'annotation:write');
      const project = (await server.db.selectFrom('projects').select('id').where('organization_id', '=', acmeId).executeTakeFirstOrThrow()).id;
      const annotate = (accessToken: string) =>
        fetch(`${server.url}/api/projects/${project}/annotations`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ content: 'note' }) });
      assert.equal((await annotate(full.access_token)).status, 201);

      const lowered = await agents.owner.request(`${APPS}/${clientId}`, { form: { _csrf: await csrf(agents.owner), name: 'Shrinking', redirect_uris: REDIRECT, scope: ['openid', 'project:read'] } });
      assert.equal(lowered.status, 303);
      const loweredAt = Date.now();

      // The access token already issued loses the scope within the toolkit's cache (1 s).
      for (;;) {
        const started = Date.now();
        const response = await annotate(full.access_token);
        if (response.status !== 201) {
          assert.equal(response.status, 403);
          assert.match(response.headers.get('www-authenticate')!, /error="insufficient_scope"/);
          break;
        }
        assert.ok(started - loweredAt <= server.config.tokenCacheMs + 20, `wrote with a removed scope ${started - loweredAt} ms after the ceiling dropped`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.equal((await introspect(clientId, clientSecret, full.access_token)).active, true);
      const introspected = (await (await fetch(`${server.url}/oauth/introspect`, { method: 'POST', headers: { authorization: basicAuth(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: full.access_token }) })).json()) as { scope: string };
      assert.equal(introspected.scope, 'openid project:read');

      // Refreshes no longer return it; a refresh asking for it is refused; a family left with nothing is revoked.
      const refreshed = await app.refresh(full.refresh_token!);
      assert.equal(refreshed.scope, 'openid project:read');
      const asked = await token(clientId, clientSecret, { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token!, scope: 'annotation:write' });
      assert.equal(((await asked.json()) as { error: string }).error, 'invalid_scope');
      const emptied = await token(clientId, clientSecret, { grant_type: 'refresh_token', refresh_token: writeOnly.refresh_token! });
      assert.equal(((await emptied.json()) as { error: string }).error, 'invalid_grant');
      const audit = await server.db.selectFrom('audit_events').select('detail').where('client_id', '=', clientId).where('type', '=', 'app.updated').executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(audit.detail).scope_lowered, { removed: ['annotation:write'], grants: 2, token_families: 2, revoked_token_families: 1 });

      // Raised again, the scope needs consent again: the stored grant lost it.
      const raised = await agents.owner.request(`${APPS}/${clientId}`, { form: { _csrf: await csrf(agents.owner), name: 'Shrinking', redirect_uris: REDIRECT, scope: ['openid', 'project:read', 'annotation:write'] } });
      assert.equal(raised.status, 303);
      const silent = await app.authorizationUrl('project:read annotation:write', { prompt: 'none' });
      const answer = await agents.owner.request(silent.url.href);
      assert.equal(new URL(answer.headers.get('location')!).searchParams.get('error'), 'consent_required');
    });

    it('serves an uploaded logo with safe headers, and refuses SVG and oversized files', async () => {
      const created = await postMultipart(agents.owner, APPS, appFields({ name: 'Logo App' }), { bytes: PNG, type: 'image/png' });
      assert.equal(created.status, 201);
      const { clientId } = createdIds(await created.text());
      const row = await server.db.selectFrom('clients').select('logo_uri').where('id', '=', clientId!).executeTakeFirstOrThrow();
      assert.match(row.logo_uri ?? '', new RegExp(`^${server.url}/logos/${clientId}\\?v=\\d+$`));
      const logo = await fetch(row.logo_uri!);
      assert.equal(logo.status, 200);
      assert.equal(logo.headers.get('content-type'), 'image/png');
      assert.equal(logo.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(logo.headers.get('content-security-policy'), "default-src 'none'");
      assert.match(logo.headers.get('cache-control') ?? '', /public, max-age=\d+/);
      assert.ok(Buffer.from(await logo.arrayBuffer()).equals(PNG));
      const stored = await server.db.selectFrom('client_logos').selectAll().where('client_id', '=', clientId!).executeTakeFirstOrThrow();
      assert.equal(stored.data, PNG.toString('base64'));

      // Editing without a new file keeps the upload; a new file replaces it with a new version.
      const page = `${APPS}/${clientId}`;
      const kept = await postMultipart(agents.owner, page, { name: 'Logo App', redirect_uris: REDIRECT, scope: 'openid', logo_url: '' });
      assert.equal(kept.status, 303);
      assert.equal((await server.db.selectFrom('clients').select('logo_uri').where('id', '=', clientId!).executeTakeFirstOrThrow()).logo_uri, row.logo_uri);
      server.advance(1000);
      const replaced = await postMultipart(agents.owner, page, { name: 'Logo App', redirect_uris: REDIRECT, scope: 'openid' }, { bytes: JPEG, type: 'image/jpeg' });
      assert.equal(replaced.status, 303);
      const newUri = (await server.db.selectFrom('clients').select('logo_uri').where('id', '=', clientId!).executeTakeFirstOrThrow()).logo_uri!;
      assert.notEqual(newUri, row.logo_uri);
      assert.equal((await fetch(newUri)).headers.get('content-type'), 'image/jpeg');

      const refusals: Array<[{ bytes: Buffer; type: string }, RegExp]> = [
        [{ bytes: SVG, type: 'image/svg+xml' }, /SVG is not accepted/],
        [{ bytes: SVG, type: 'image/png' }, /SVG is not accepted/],
        [{ bytes: JPEG, type: 'image/png' }, /must be a PNG, JPEG or WebP/],
        [{ bytes: Buffer.concat([PNG, Buffer.alloc(256 * 1024)]), type: 'image/png' }, /at most 256 KB/],
      ];
      for (const [upload, message] of refusals) {
        const response = await postMultipart(agents.owner, APPS, appFields({ name: 'Bad Logo' }), upload);
        assert.equal(response.status, 400, upload.type);
        assert.match(await response.text(), message);
        const onEdit = await postMultipart(agents.owner, page, { name: 'Logo App', redirect_uris: REDIRECT, scope: 'openid' }, upload);
        assert.equal(onEdit.status, 400);
      }
      assert.equal(await server.db.selectFrom('clients').select('id').where('name', '=', 'Bad Logo').executeTakeFirst(), undefined);

      const withoutCsrf = await fetch(`${server.url}${APPS}`, { method: 'POST', body: new FormData(), headers: { cookie: agents.owner.cookieHeader() } });
      assert.equal(withoutCsrf.status, 403);
      assert.equal((await fetch(`${server.url}/logos/pca_nothing`)).status, 404);
    });

    it('rotates the secret: the old one is refused at once, issued tokens stay valid', async () => {
      const { clientId, clientSecret: oldSecret } = await createdApp({ name: 'Rotating' });
      const tokens = await tokensFor(clientId, oldSecret);

      const rotated = await agents.owner.request(`${APPS}/${clientId}/secret`, { form: { _csrf: await csrf(agents.owner) } });
      assert.equal(rotated.status, 200);
      const html = await rotated.text();
      assert.match(html, /shown only once/);
      const newSecret = createdIds(html).clientSecret!;
      assert.match(newSecret, /^pcs_/);
      assert.notEqual(newSecret, oldSecret);
      assert.equal((await server.db.selectFrom('clients').select('secret_hash').where('id', '=', clientId).executeTakeFirstOrThrow()).secret_hash, hashToken(newSecret));

      const withOld = await token(clientId, oldSecret, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(withOld.status, 401);
      assert.equal(((await withOld.json()) as { error: string }).error, 'invalid_client');
      assert.equal((await introspect(clientId, newSecret, tokens.access_token)).active, true);
      assert.equal((await userinfo(tokens.access_token)).status, 200);
      const withNew = await token(clientId, newSecret, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(withNew.status, 200);
      const types = await server.db.selectFrom('audit_events').select('type').where('client_id', '=', clientId).execute();
      assert.ok(types.some((event) => event.type === 'app.secret_rotated'));
    });

    it('deletes an app after a confirmation naming it: tokens, grants and the client id stop working', async () => {
      const { clientId, clientSecret } = await createdApp({ name: 'Doomed' });
      const tokens = await tokensFor(clientId, clientSecret);
      assert.ok(await server.db.selectFrom('authorizations').select('id').where('client_id', '=', clientId).executeTakeFirst());

      const confirmation = await agents.owner.request(`${APPS}/${clientId}/delete`);
      assert.equal(confirmation.status, 200);
      assert.match(await confirmation.text(), /Delete Doomed/);
      const mistyped = await agents.owner.request(`${APPS}/${clientId}/delete`, { form: { _csrf: await csrf(agents.owner), confirm_name: 'Doom' } });
      assert.equal(mistyped.status, 400);
      assert.equal((await introspect(clientId, clientSecret, tokens.access_token)).active, true);

      const deleted = await agents.owner.request(`${APPS}/${clientId}/delete`, { form: { _csrf: await csrf(agents.owner), confirm_name: 'Doomed' } });
      assert.equal(deleted.status, 303);
      assert.equal(deleted.headers.get('location'), `${APPS}?deleted=1`);
      assert.match(await (await agents.owner.request(`${APPS}?deleted=1`)).text(), /The app was deleted/);

      assert.equal((await userinfo(tokens.access_token)).status, 401);
      assert.equal(await server.db.selectFrom('authorizations').select('id').where('client_id', '=', clientId).executeTakeFirst(), undefined);
      const families = await server.db.selectFrom('token_families').select('revoked_at').where('client_id', '=', clientId).execute();
      assert.ok(families.length > 0 && families.every((family) => family.revoked_at !== null));
      const refused = await token(clientId, clientSecret, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { error: string }).error, 'invalid_client');
      assert.equal((await agents.owner.request(authorizeUrl(clientId))).status, 400);
      assert.equal((await agents.owner.request(`${APPS}/${clientId}`)).status, 404);
      const audit = await server.db.selectFrom('audit_events').select(['type', 'detail']).where('client_id', '=', clientId).where('type', '=', 'app.deleted').executeTakeFirstOrThrow();
      assert.equal(JSON.parse(audit.detail).name, 'Doomed');
    });

    it('hides an app from members of other organizations and plain members', async () => {
      const { clientId } = await createdApp({ name: 'Private To Acme' });
      const page = `${APPS}/${clientId}`;
      for (const agent of [agents.outsider, agents.member]) {
        assert.ok(!(await (await agent.request(APPS)).text()).includes(clientId));
        const token = await csrf(agent);
        const attempts = [
          await agent.request(page),
          await agent.request(`${page}/delete`),
          await agent.request(page, { form: { _csrf: token, name: 'Hijacked', redirect_uris: 'https://evil.example/cb', scope: 'openid' } }),
          await agent.request(`${page}/secret`, { form: { _csrf: token } }),
          await agent.request(`${page}/delete`, { form: { _csrf: token, confirm_name: 'Private To Acme' } }),
        ];
        assert.deepEqual(attempts.map((response) => response.status), [404, 404, 404, 404, 404]);
      }
      const row = await server.db.selectFrom('clients').selectAll().where('id', '=', clientId).executeTakeFirstOrThrow();
      assert.equal(row.name, 'Private To Acme');
      const signedOut = await new UserAgent(server.url).request(page);
      assert.equal(signedOut.status, 303);
      assert.match(signedOut.headers.get('location') ?? '', /^\/login\?return_to=/);
    });

    it('clears the Verified badge when the name, logo, redirect URLs or scope ceiling change, with an audit event', async () => {
      const { clientId } = await createdApp({ name: 'Vouched' });
      const page = `${APPS}/${clientId}`;
      let fields: Record<string, string | string[]> = { name: 'Vouched', description: 'Charts in your pocket', redirect_uris: REDIRECT, scope: ['openid', 'profile', 'project:read'], logo_url: '' };
      const consent = async () => (await agents.owner.request(`${authorizeUrl(clientId)}&prompt=consent`)).text();
      const edit = async (changes: Record<string, string | string[]>) => {
        fields = { ...fields, ...changes };
        const saved = await agents.admin.request(page, { form: { _csrf: await csrf(agents.admin), ...fields } });
        assert.equal(saved.status, 303);
      };
      const verified = async () => (await server.db.selectFrom('clients').select('verified').where('id', '=', clientId).executeTakeFirstOrThrow()).verified;

      await setAppVerified(server.ctx, clientId, true, 'system:test');
      // What the badge does not vouch for, and saving what is already there, keep it.
      await edit({ description: 'Other words', redirect_uris: `${REDIRECT}\n${REDIRECT}` });
      assert.equal(await verified(), 1);
      assert.match(await consent(), /badge verified/);

      const changes: Array<[Record<string, string | string[]>, string]> = [
        [{ name: 'Vouched Again' }, 'name'],
        [{ logo_url: 'https://cdn.example/new-logo.png' }, 'logo'],
        [{ redirect_uris: `${REDIRECT}\nhttps://elsewhere.example/cb` }, 'redirect_uris'],
        [{ scope: ['openid', 'profile', 'project:read', 'annotation:write'] }, 'scope'],
      ];
      const unverifiedEvents = () => server.db.selectFrom('audit_events').selectAll().where('client_id', '=', clientId).where('type', '=', 'app.unverified').execute();
      for (const [change, what] of changes) {
        await setAppVerified(server.ctx, clientId, true, 'system:test');
        assert.match(await consent(), /badge verified/, what);
        const before = (await unverifiedEvents()).length;
        await edit(change);
        assert.equal(await verified(), 0, what);
        assert.doesNotMatch(await consent(), /badge verified/, what);
        const events = await unverifiedEvents();
        assert.equal(events.length, before + 1, what);
      }
      const events = await unverifiedEvents();
      assert.ok(events.every((event) => event.actor !== 'system:test' && event.user_id !== null), 'written by the change, naming the admin who made it');
      assert.deepEqual(events.map((event) => JSON.parse(event.detail).changed[0]).sort(), changes.map(([, what]) => what).sort());
    });

    it('lets an instance admin verify and unverify an app from the CLI', async () => {
      const { clientId } = await createdApp({ name: 'Trusted' });
      const tessera = tesseraCli({ databaseUrl: server.cliDatabaseUrl });
      const consent = async () => (await agents.owner.request(`${authorizeUrl(clientId)}&prompt=consent`)).text();
      assert.doesNotMatch(await consent(), /badge verified/);

      const verified = await tessera('app', 'verify', clientId, '--json');
      assert.equal(verified.status, 0, verified.stderr);
      assert.deepEqual(verified.json(), { client_id: clientId, name: 'Trusted', verified: true });
      assert.match(await consent(), /badge verified/);
      assert.match(await (await agents.owner.request(APPS)).text(), /badge verified/);

      const unverified = await tessera('app', 'unverify', clientId);
      assert.equal(unverified.status, 0, unverified.stderr);
      assert.match(unverified.stdout, /no longer verified/);
      assert.doesNotMatch(await consent(), /badge verified/);
      const types = await server.db.selectFrom('audit_events').select(['type', 'actor']).where('client_id', '=', clientId).execute();
      assert.ok(types.some((event) => event.type === 'app.verified' && event.actor === 'system:cli'));
      assert.ok(types.some((event) => event.type === 'app.unverified'));

      const unknown = await tessera('app', 'verify', 'pca_nobody', '--json');
      assert.equal(unknown.status, 2);
      assert.match(unknown.stderr, /There is no registered client pca_nobody/);
    });
  });
}
