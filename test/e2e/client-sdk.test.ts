/**
 * The client SDK against a real Tessera: sign-in for public and confidential clients, scope-aware
 * project discovery for full, organization- and project-narrowed grants, refresh after expiry
 * (proactive and on 401), one refresh shared by concurrent calls, revocation and userinfo.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addMember } from '../../packages/server/src/platform/accounts/organizations.js';
import { MemoryTokenStore, SignedOutError, TesseraClient, TesseraError, type TesseraClientOptions } from '../../packages/client/src/index.js';
import { storageTargets } from '../support/database.js';
import { PASSWORD, seedClient, seedOrganization, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent, type ConsentChoice } from '../support/user-agent.js';

const REDIRECT_URI = 'http://127.0.0.1:7777/callback';
const SCOPES = 'openid profile email organization:read project:read user:read';
const HOUR = 3_600_000;

/** The global fetch, counting token endpoint requests. */
function countingFetch() {
  let tokenRequests = 0;
  const http: typeof fetch = (input, init) => {
    if (new URL(input instanceof Request ? input.url : input).pathname === '/oauth/token') tokenRequests += 1;
    return fetch(input, init);
  };
  return { http, tokenRequests: () => tokenRequests };
}

for (const target of storageTargets()) {
  describe(`client SDK (${target.name})`, () => {
    let server: TestServer;
    let agent: UserAgent;
    let user: { id: string; email: string };
    let publicClientId: string;
    let confidential: { id: string; secret: string };
    let acme: { id: string; web: string; mobile: string };
    let globex: { id: string; shop: string };

    before(async () => {
      server = await startTestServer(target);
      const { ctx } = server;
      user = await seedUser(ctx);
      const a = await seedOrganization(ctx, user.id, 'Acme', ['Web', 'Mobile']);
      const g = await seedOrganization(ctx, (await seedUser(ctx)).id, 'Globex', ['Shop']);
      await addMember(ctx.store, { organizationId: g.organization.id, userId: user.id, role: 'member' }, ctx.now());
      acme = { id: a.organization.id, web: a.projects[0]!.id, mobile: a.projects[1]!.id };
      globex = { id: g.organization.id, shop: g.projects[0]!.id };
      publicClientId = (await seedClient(ctx, { isPublic: true, redirectUris: [REDIRECT_URI] })).client.id;
      const seeded = await seedClient(ctx, { redirectUris: [REDIRECT_URI] });
      confidential = { id: seeded.client.id, secret: seeded.clientSecret! };
      agent = new UserAgent(server.url);
      await agent.signIn(user.email, PASSWORD);
    });
    after(() => server.close());

    /** A full sign-in: discovery, the authorization URL, the user's consent, the callback. */
    async function signIn(choice: ConsentChoice = { access_level: 'all' }, options: Partial<TesseraClientOptions> = {}) {
      const client = await TesseraClient.discover({ issuer: server.url, clientId: publicClientId, redirectUri: REDIRECT_URI, ...options });
      const request = await client.authorizationUrl({ scope: SCOPES, prompt: 'consent' });
      const tokens = await client.handleCallback(await agent.authorize(request.url, choice), request);
      return { client, tokens };
    }

    it('signs in a public client', async () => {
      const { client, tokens } = await signIn();
      assert.match(tokens.accessToken, /^pha_/);
      assert.match(tokens.refreshToken!, /^phr_/);
      assert.equal(tokens.scope, SCOPES);
      assert.equal(tokens.accessLevel, 'all');
      assert.deepEqual(await client.store.get(), tokens);
      const me = await client.fetchApi('/api/users/@me');
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { id: string }).id, user.id);
    });

    it('signs in a confidential client with its secret, and refuses a wrong secret', async () => {
      const { client } = await signIn({ access_level: 'all' }, { clientId: confidential.id, clientSecret: confidential.secret });
      assert.equal((await client.fetchApi('/api/organizations')).status, 200);
      await assert.rejects(signIn({ access_level: 'all' }, { clientId: confidential.id, clientSecret: 'pcs_wrong' }), (error) => {
        assert.ok(error instanceof TesseraError);
        assert.equal(error.code, 'invalid_client');
        assert.doesNotMatch(error.message, /pcs_|phac_/);
        return true;
      });
    });

    it('surfaces a denied consent as access_denied', async () => {
      await assert.rejects(signIn({ decision: 'deny' }), (error) => error instanceof TesseraError && error.code === 'access_denied');
    });

    it('discovers every project of a full-access grant', async () => {
      const { client } = await signIn({ access_level: 'all' });
      const found = await client.discoverProjects();
      assert.equal(found.accessLevel, 'all');
      assert.deepEqual(found.projects.map((p) => p.id).sort(), [acme.web, acme.mobile, globex.shop].sort());
      assert.deepEqual(found.failures, []);
    });

    it('discovers only the granted organizations\' projects', async () => {
      const { client } = await signIn({ access_level: 'organization', organization_ids: [acme.id] });
      const found = await client.discoverProjects();
      assert.equal(found.accessLevel, 'organization');
      assert.deepEqual(found.projects.map((p) => p.id).sort(), [acme.web, acme.mobile].sort());
      assert.deepEqual(found.failures, []);
    });

    it('fetches the granted projects directly, recording one that fails and keeping the rest', async () => {
      const { client } = await signIn({ access_level: 'project', project_ids: [acme.web, globex.shop] });
      const found = await client.discoverProjects();
      assert.equal(found.accessLevel, 'project');
      assert.deepEqual(found.projects.map((p) => p.id).sort(), [acme.web, globex.shop].sort());

      // The user leaves Globex: its project now fails, and discovery goes on without it.
      await server.db.deleteFrom('memberships').where('user_id', '=', user.id).where('organization_id', '=', globex.id).execute();
      server.advance(2_000); // past the resource server's principal cache
      try {
        const after = await client.discoverProjects();
        assert.deepEqual(after.projects.map((p) => p.id), [acme.web]);
        assert.deepEqual(after.failures, [{ kind: 'project', id: globex.shop, status: 404, error: 'not_found', description: `project ${globex.shop} does not exist or you are not a member of it` }]);
      } finally {
        await addMember(server.ctx.store, { organizationId: globex.id, userId: user.id, role: 'member' }, server.ctx.now());
      }
    });

    it('refreshes proactively when the access token nears expiry', async () => {
      const counting = countingFetch();
      const { client, tokens } = await signIn({ access_level: 'all' }, { fetch: counting.http, now: () => server.ctx.now() });
      assert.equal((await client.fetchApi('/api/organizations')).status, 200);
      assert.equal(counting.tokenRequests(), 1, 'only the code exchange so far');
      server.advance(55 * 60_000);
      assert.equal((await client.fetchApi('/api/organizations')).status, 200);
      assert.equal(counting.tokenRequests(), 2);
      const refreshed = (await client.store.get())!;
      assert.notEqual(refreshed.accessToken, tokens.accessToken);
      assert.notEqual(refreshed.refreshToken, tokens.refreshToken);
      assert.equal(refreshed.accessLevel, 'all');
    });

    it('refreshes on a 401 when its own clock missed the expiry, and retries', async () => {
      const counting = countingFetch();
      const { client } = await signIn({ access_level: 'all' }, { fetch: counting.http });
      server.advance(HOUR + 60_000);
      assert.equal((await client.fetchApi('/api/organizations')).status, 200);
      assert.equal(counting.tokenRequests(), 2);
    });

    it('shares one refresh among 10 concurrent calls', async () => {
      const counting = countingFetch();
      const { client } = await signIn({ access_level: 'all' }, { fetch: counting.http, now: () => server.ctx.now() });
      server.advance(HOUR + 60_000);
      const responses = await Promise.all(Array.from({ length: 10 }, () => client.fetchApi('/api/organizations')));
      assert.deepEqual(responses.map((r) => r.status), Array(10).fill(200));
      assert.equal(counting.tokenRequests(), 2, 'the code exchange and one refresh');
    });

    it('revokes: the next call throws SignedOutError, and a copy of the old tokens is signed out too', async () => {
      const { client, tokens } = await signIn({ access_level: 'all' });
      const copy = new MemoryTokenStore();
      await copy.set({ ...tokens, expiresAt: 0 });
      await client.revoke();
      assert.equal(await client.store.get(), undefined);
      await assert.rejects(client.fetchApi('/api/organizations'), (error) => error instanceof SignedOutError && error.code === 'login_required');

      const elsewhere = await TesseraClient.discover({ issuer: server.url, clientId: publicClientId, redirectUri: REDIRECT_URI, store: copy });
      await assert.rejects(elsewhere.fetchApi('/api/organizations'), (error) => error instanceof SignedOutError && error.code === 'invalid_grant');
      assert.equal(await copy.get(), undefined);
    });

    it('reads userinfo for a grant with openid', async () => {
      const { client } = await signIn({ access_level: 'all' });
      assert.deepEqual(await client.userInfo(), { sub: user.id, email: user.email, email_verified: false, name: 'Ada Lovelace', given_name: 'Ada', family_name: 'Lovelace' });
    });
  });
}
