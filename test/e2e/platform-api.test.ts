/**
 * The platform API through real HTTP with real tokens: what a mobile client does after sign-in
 * with full, organization- and project-narrowed grants; scopes; RFC 6750 errors; personal API
 * keys under the same rules; audience binding; RFC 9728; revocation reaching the API within 1 s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from '../../packages/server/src/platform/api-keys.js';
import { addMember } from '../../packages/server/src/platform/accounts/organizations.js';
import { createServer } from '../../packages/server/src/server.js';
import { seedSampleEvents } from '../../packages/server/src/platform/api/events.js';
import { storageTargets } from '../support/database.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedClient, seedOrganization, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent, type ConsentChoice } from '../support/user-agent.js';

const REDIRECT_URI = 'http://127.0.0.1:7777/callback';
const ALL_SCOPES = 'organization:read project:read annotation:write event_definition:read query:read user:read';
const OTHER_RESOURCE = 'https://other.example/api';

for (const target of storageTargets()) {
  describe(`platform API (${target.name})`, () => {
    let server: TestServer;
    let agent: UserAgent;
    let app: TestOAuthClient;
    let userId: string;
    let acme: { id: string; web: string; mobile: string };
    let globex: { id: string; shop: string };
    let foreign: { id: string; project: string };

    before(async () => {
      server = await startTestServer(target, { TESSERA_RESOURCES: OTHER_RESOURCE });
      const { ctx } = server;
      const user = await seedUser(ctx);
      userId = user.id;
      const a = await seedOrganization(ctx, user.id, 'Acme', ['Web', 'Mobile']);
      const stranger = await seedUser(ctx);
      const g = await seedOrganization(ctx, stranger.id, 'Globex', ['Shop']);
      await addMember(ctx.store, { organizationId: g.organization.id, userId: user.id, role: 'member' }, ctx.now());
      const f = await seedOrganization(ctx, stranger.id, 'Initech', ['Secret']);
      acme = { id: a.organization.id, web: a.projects[0]!.id, mobile: a.projects[1]!.id };
      globex = { id: g.organization.id, shop: g.projects[0]!.id };
      foreign = { id: f.organization.id, project: f.projects[0]!.id };
      const { client, clientSecret } = await seedClient(ctx, { redirectUris: [REDIRECT_URI] });
      app = await TestOAuthClient.discover(server.url, { clientId: client.id, clientSecret, redirectUri: REDIRECT_URI });
      agent = new UserAgent(server.url);
      await agent.signIn(user.email, PASSWORD);
    });
    after(() => server.close());

    async function tokenFor(choice: ConsentChoice, scope = ALL_SCOPES, extra: Record<string, string> = {}) {
      const { url, codeVerifier, state } = await app.authorizationUrl(scope, { prompt: 'consent', ...extra });
      const callback = await agent.authorize(url.href, choice);
      return app.exchange(callback, codeVerifier, state);
    }

    async function api(token: string | undefined, path: string, init: { method?: string; body?: unknown; base?: string } = {}) {
      const response = await fetch(`${init.base ?? server.url}${path}`, {
        method: init.method ?? 'GET',
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
        ...(init.body ? { body: JSON.stringify(init.body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as any) : undefined };
    }

    /** What a mobile client does after sign-in: discover every project it may read, tolerating 403s. */
    async function discoverProjects(token: string, tokenResponse: { access_level: string; scoped_organizations: string[]; scoped_projects: string[] }) {
      const projects: string[] = [];
      const failures: string[] = [];
      if (tokenResponse.access_level === 'project') {
        const results = await Promise.all(tokenResponse.scoped_projects.map((id) => api(token, `/api/projects/${id}`)));
        for (const result of results) (result.status === 200 ? projects : failures).push(result.body.id ?? result.status);
        return { projects: projects.sort(), failures };
      }
      const organizations = tokenResponse.access_level === 'organization'
        ? tokenResponse.scoped_organizations
        : ((await api(token, '/api/organizations')).body.results as Array<{ id: string }>).map((o) => o.id);
      for (const id of [...organizations, foreign.id]) {
        const listed = await api(token, `/api/organizations/${id}/projects`);
        if (listed.status === 200) projects.push(...(listed.body.results as Array<{ id: string }>).map((p) => p.id));
        else failures.push(`${id}:${listed.status}`);
      }
      return { projects: projects.sort(), failures };
    }

    it('full access: lists organizations, then each organization\'s projects', async () => {
      const tokens = await tokenFor({ access_level: 'all' });
      assert.equal(tokens.access_level, 'all');
      const organizations = await api(tokens.access_token, '/api/organizations');
      assert.deepEqual(organizations.body.results.map((o: { name: string }) => o.name), ['Acme', 'Globex']);
      const found = await discoverProjects(tokens.access_token, tokens as any);
      assert.deepEqual(found.projects, [acme.web, acme.mobile, globex.shop].sort());
      assert.deepEqual(found.failures, [`${foreign.id}:404`], 'an organization the user is not in is not found');
    });

    it('organization-narrowed: only the granted organizations and their projects', async () => {
      const tokens = await tokenFor({ access_level: 'organization', organization_ids: [acme.id] });
      assert.deepEqual(tokens.scoped_organizations, [acme.id]);
      const organizations = await api(tokens.access_token, '/api/organizations');
      assert.deepEqual(organizations.body.results.map((o: { id: string }) => o.id), [acme.id]);
      const found = await discoverProjects(tokens.access_token, tokens as any);
      assert.deepEqual(found.projects, [acme.web, acme.mobile].sort());
      const other = await api(tokens.access_token, `/api/organizations/${globex.id}/projects`);
      assert.equal(other.status, 403);
      assert.match(other.body.error_description, /not granted access to organization/);
      assert.equal((await api(tokens.access_token, `/api/projects/${globex.shop}`)).status, 403);
      assert.equal((await api(tokens.access_token, `/api/projects/${acme.web}`)).status, 200);
    });

    it('project-narrowed: exactly the granted projects; organization endpoints answer a clear 403; one 403 does not stop the rest', async () => {
      const tokens = await tokenFor({ access_level: 'project', project_ids: [acme.web, globex.shop] });
      assert.deepEqual([...(tokens.scoped_projects as string[])].sort(), [acme.web, globex.shop].sort());
      const found = await discoverProjects(tokens.access_token, { ...(tokens as any), scoped_projects: [acme.web, acme.mobile, globex.shop] });
      assert.deepEqual(found.projects, [acme.web, globex.shop].sort());
      assert.deepEqual(found.failures, [403]);

      const organization = await api(tokens.access_token, `/api/organizations/${acme.id}`);
      assert.equal(organization.status, 403);
      assert.match(organization.body.error_description, /limited to specific projects/);
      assert.equal((await api(tokens.access_token, `/api/organizations/${acme.id}/projects`)).status, 403);
      const listed = await api(tokens.access_token, '/api/organizations');
      assert.deepEqual(listed.body.results.map((o: { name: string }) => o.name), ['Acme', 'Globex'], 'listing shows what was granted');
    });

    it('keeps the narrowing across refresh', async () => {
      const tokens = await tokenFor({ access_level: 'project', project_ids: [acme.mobile] });
      const refreshed = await app.refresh(tokens.refresh_token!);
      assert.deepEqual(refreshed.scoped_projects, [acme.mobile]);
      assert.equal((await api(refreshed.access_token, `/api/projects/${acme.mobile}`)).status, 200);
      assert.equal((await api(refreshed.access_token, `/api/projects/${acme.web}`)).status, 403);
    });

    it('a narrower re-consent reaches the tokens the app already holds: no more reads of the other organization, no wide refresh', async () => {
      const wide = await tokenFor({ access_level: 'all' });
      assert.equal((await api(wide.access_token, `/api/projects/${globex.shop}`)).status, 200);
      const narrowed = await tokenFor({ access_level: 'organization', organization_ids: [acme.id] });
      const narrowedAt = Date.now();
      // Within the toolkit's cache (1 s), the older token stops reading Globex's project.
      for (;;) {
        const started = Date.now();
        const read = await api(wide.access_token, `/api/projects/${globex.shop}`);
        if (read.status !== 200) {
          assert.equal(read.status, 401);
          break;
        }
        assert.ok(started - narrowedAt <= server.config.tokenCacheMs + 20, `read another organization's project ${started - narrowedAt} ms after the narrower consent`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await assert.rejects(app.refresh(wide.refresh_token!), (error: unknown) => (error as { error?: string }).error === 'invalid_grant');
      assert.equal((await api(narrowed.access_token, `/api/projects/${acme.web}`)).status, 200);
      assert.equal((await api(narrowed.access_token, `/api/projects/${globex.shop}`)).status, 403);
      const refreshed = await app.refresh(narrowed.refresh_token!);
      assert.equal(refreshed.access_level, 'organization');
    });

    it('required_access_level forces a level, and a project hint pre-selects it', async () => {
      const { url } = await app.authorizationUrl(ALL_SCOPES, { prompt: 'consent', required_access_level: 'organization' });
      const page = await (await agent.request(url.pathname + url.search)).text();
      assert.match(page, /name="access_level" value="organization"/);
      assert.doesNotMatch(page, /name="access_level" value="(all|project)"/);
      await assert.rejects(agent.authorize(url.href, { access_level: 'all' }), /consent answered 400/);
      const forced = await agent.authorize(url.href, { access_level: 'organization', organization_ids: [globex.id] });
      assert.ok(forced.searchParams.get('code'));

      const hinted = await app.authorizationUrl(ALL_SCOPES, { prompt: 'consent', project: acme.mobile });
      const hintedPage = await (await agent.request(hinted.url.pathname + hinted.url.search)).text();
      assert.match(hintedPage, /name="access_level" value="project" checked/);
      assert.match(hintedPage, new RegExp(`name="project_ids" value="${acme.mobile}" checked`));
      assert.doesNotMatch(hintedPage, new RegExp(`name="project_ids" value="${acme.web}" checked`));
    });

    it('refuses a forged narrowing naming a project the user cannot see', async () => {
      const { url } = await app.authorizationUrl(ALL_SCOPES, { prompt: 'consent' });
      await assert.rejects(agent.authorize(url.href, { access_level: 'project', project_ids: [foreign.project] }), /consent answered 400/);
    });

    it('enforces scopes: :write satisfies :read, a missing scope is 403 insufficient_scope naming it', async () => {
      const tokens = await tokenFor({ access_level: 'all' }, 'project:read annotation:read');
      const created = await api(tokens.access_token, `/api/projects/${acme.web}/annotations`, { method: 'POST', body: { content: 'launch' } });
      assert.equal(created.status, 403);
      assert.equal(created.body.error, 'insufficient_scope');
      assert.match(created.headers.get('www-authenticate')!, /error="insufficient_scope".*scope="annotation:write"/);
      assert.equal((await api(tokens.access_token, `/api/projects/${acme.web}/annotations`)).status, 200);
      assert.equal((await api(tokens.access_token, '/api/organizations')).status, 403);

      const writer = await tokenFor({ access_level: 'all' }, 'annotation:write');
      const annotation = await api(writer.access_token, `/api/projects/${acme.web}/annotations`, { method: 'POST', body: { content: 'launch <b>day</b>', date_marker: '2026-11-01T00:00:00Z' } });
      assert.equal(annotation.status, 201);
      assert.equal(annotation.body.content, 'launch <b>day</b>');
      const listed = await api(writer.access_token, `/api/projects/${acme.web}/annotations`);
      assert.ok(listed.body.results.some((a: { id: string }) => a.id === annotation.body.id), ':write satisfies :read');
      assert.equal((await api(writer.access_token, `/api/projects/${acme.web}/annotations`, { method: 'POST', body: { content: '' } })).status, 400);
      assert.equal((await api(writer.access_token, `/api/projects/${acme.web}/annotations/${annotation.body.id}`, { method: 'DELETE' })).status, 204);
      assert.equal((await api(writer.access_token, `/api/projects/${acme.web}/annotations/${annotation.body.id}`, { method: 'DELETE' })).status, 404);
    });

    it('answers RFC 6750 errors with a challenge pointing at the RFC 9728 metadata', async () => {
      const missing = await api(undefined, '/api/organizations');
      assert.equal(missing.status, 401);
      const metadataUrl = `${server.url}/.well-known/oauth-protected-resource/api`;
      assert.equal(missing.headers.get('www-authenticate'), `Bearer realm="${server.url}", resource_metadata="${metadataUrl}"`);
      const forged = await api('pha_0000000000000000000000000000000000000000000000000', '/api/organizations');
      assert.equal(forged.status, 401);
      assert.match(forged.headers.get('www-authenticate')!, /error="invalid_token"/);

      const metadata = await (await fetch(metadataUrl)).json() as Record<string, unknown>;
      assert.equal(metadata.resource, `${server.url}/api`);
      assert.deepEqual(metadata.authorization_servers, [server.url]);
      assert.deepEqual(metadata.bearer_methods_supported, ['header']);
      assert.ok((metadata.scopes_supported as string[]).includes('project:read'));
    });

    it('takes the token from the Authorization header only, as its RFC 9728 metadata says', async () => {
      const tokens = await tokenFor({ access_level: 'all' });
      const inForm = await fetch(`${server.url}/api/projects/${acme.web}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ access_token: tokens.access_token }),
      });
      const inQuery = await fetch(`${server.url}/api/projects/${acme.web}?access_token=${tokens.access_token}`);
      for (const refused of [inForm, inQuery]) {
        assert.equal(refused.status, 400);
        assert.match(refused.headers.get('www-authenticate')!, /^Bearer realm=.*error="invalid_request", error_description="[^"]*Authorization header/);
        const body = (await refused.json()) as { error: string; error_description: string };
        assert.equal(body.error, 'invalid_request');
        assert.match(body.error_description, /Authorization header/);
      }
      assert.equal((await api(tokens.access_token, `/api/projects/${acme.web}`)).status, 200);
    });

    it('gives personal API keys exactly the same rules', async () => {
      const { key } = await createApiKey(server.ctx.store, { userId, label: 'cli', scopes: ['project:read', 'organization:read'], narrowing: { accessLevel: 'project', organizationIds: [], projectIds: [acme.web] } }, server.ctx.now());
      assert.equal((await api(key, `/api/projects/${acme.web}`)).status, 200);
      assert.equal((await api(key, `/api/projects/${acme.mobile}`)).status, 403);
      assert.equal((await api(key, `/api/organizations/${acme.id}`)).status, 403);
      assert.equal((await api(key, `/api/projects/${acme.web}/annotations`)).status, 403);
      const row = await server.db.selectFrom('api_keys').select('last_used_at').where('user_id', '=', userId).executeTakeFirstOrThrow();
      assert.ok(row.last_used_at !== null);
    });

    it('binds the audience: a token for another resource is refused, an unknown resource is invalid_target', async () => {
      const bound = await tokenFor({ access_level: 'all' }, ALL_SCOPES, { resource: `${server.url}/api` });
      assert.equal((await app.introspect(bound.access_token)).aud, `${server.url}/api`);
      assert.equal((await api(bound.access_token, '/api/users/@me')).status, 200);
      const elsewhere = await tokenFor({ access_level: 'all' }, ALL_SCOPES, { resource: OTHER_RESOURCE });
      const refused = await api(elsewhere.access_token, '/api/users/@me');
      assert.equal(refused.status, 401);
      assert.match(refused.body.error_description, /another resource/);

      const { url } = await app.authorizationUrl(ALL_SCOPES, { resource: 'https://unknown.example/' });
      const callback = await agent.authorize(url.href);
      assert.equal(callback.searchParams.get('error'), 'invalid_target');
    });

    it('answers the event query from real events, and lists event definitions', async () => {
      const tokens = await tokenFor({ access_level: 'all' });
      const now = server.ctx.now();
      const inserted = await seedSampleEvents(server.ctx.store, acme.web, now, 10);
      const definitions = await api(tokens.access_token, `/api/projects/${acme.web}/event_definitions`);
      assert.deepEqual(definitions.body.results.map((d: { name: string }) => d.name), ['$pageview', 'purchase', 'signed_up']);

      const from = new Date(now - 30 * 86_400_000).toISOString();
      const all = await api(tokens.access_token, `/api/projects/${acme.web}/query`, { method: 'POST', body: { date_from: from, date_to: new Date(now).toISOString() } });
      assert.equal(all.status, 200);
      assert.equal(all.body.totals.count, inserted);
      assert.equal(all.body.results.reduce((sum: number, day: { count: number }) => sum + day.count, 0), inserted);
      const distinct = await server.db.selectFrom('events').select('distinct_id').distinct().where('project_id', '=', acme.web).execute();
      assert.equal(all.body.totals.unique_visitors, distinct.length);

      const views = await api(tokens.access_token, `/api/projects/${acme.web}/query`, { method: 'POST', body: { event: '$pageview', date_from: from } });
      const viewCount = await server.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', acme.web).where('event', '=', '$pageview').executeTakeFirstOrThrow();
      assert.equal(views.body.totals.count, Number(viewCount.n));
      assert.equal((await api(tokens.access_token, `/api/projects/${acme.mobile}/query`, { method: 'POST', body: {} })).body.totals.count, 0);
      assert.equal((await api(tokens.access_token, `/api/projects/${acme.web}/query`, { method: 'POST', body: { date_from: 'yesterday' } })).status, 400);
    });

    it('stops honouring a revoked token on every instance within 1 second', async () => {
      const second = await createServer(server, {});
      await second.listen({ port: 0, host: '127.0.0.1' });
      const secondUrl = `http://127.0.0.1:${(second.server.address() as { port: number }).port}`;
      try {
        const tokens = await tokenFor({ access_level: 'all' });
        for (const base of [server.url, secondUrl]) assert.equal((await api(tokens.access_token, '/api/users/@me', { base })).status, 200);
        await app.revoke(tokens.refresh_token!);
        const revokedAt = Date.now();
        // The guarantee: a request that starts more than a second after the revocation is refused,
        // however long the request itself takes on a busy machine.
        const lastAccepted: number[] = [];
        for (const base of [server.url, secondUrl]) {
          let accepted = revokedAt;
          for (;;) {
            const started = Date.now();
            if ((await api(tokens.access_token, '/api/users/@me', { base })).status !== 200) break;
            accepted = started;
            assert.ok(started - revokedAt <= server.config.tokenCacheMs + 20, `accepted a request started ${started - revokedAt} ms after the revocation`);
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
          lastAccepted.push(accepted - revokedAt);
        }
        assert.ok(Math.max(...lastAccepted) <= 1000 + 20, `last accepted ${lastAccepted.join(' ms, ')} ms after the revocation`);
      } finally {
        await second.server.close();
      }
    });
  });
}
