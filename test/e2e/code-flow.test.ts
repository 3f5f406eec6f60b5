import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { storageTargets } from '../support/database.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

for (const target of storageTargets()) {
  describe(`code flow end to end with oauth4webapi (${target.name})`, () => {
    let server: TestServer;
    let email: string;
    before(async () => {
      server = await startTestServer(target);
      email = (await seedUser(server.ctx)).email;
    });
    after(() => server.close());

    for (const kind of ['confidential', 'public'] as const) {
      it(`discovery → PKCE → authorize → token → refresh → revoke → introspect (${kind})`, async () => {
        const redirectUri = 'http://127.0.0.1:7777/callback';
        const { client, clientSecret } = await seedClient(server.ctx, { redirectUris: [redirectUri], isPublic: kind === 'public' });
        const app = await TestOAuthClient.discover(server.url, { clientId: client.id, clientSecret, redirectUri });
        const agent = new UserAgent(server.url);
        await agent.signIn(email, PASSWORD);

        const { url, codeVerifier, state } = await app.authorizationUrl('project:read annotation:write');
        const callback = await agent.authorize(url.href);
        assert.equal(callback.searchParams.get('iss'), server.url);
        const tokens = await app.exchange(callback, codeVerifier, state);
        assert.match(tokens.access_token, /^pha_/);
        assert.match(tokens.refresh_token!, /^phr_/);
        assert.equal(tokens.scope, 'project:read annotation:write');
        assert.equal(tokens.expires_in, 3600);

        const refreshed = await app.refresh(tokens.refresh_token!);
        assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
        assert.notEqual(refreshed.access_token, tokens.access_token);

        const active = await app.introspect(refreshed.access_token);
        assert.equal(active.active, true);
        assert.equal(active.client_id, client.id);

        await app.revoke(refreshed.refresh_token!);
        assert.equal((await app.introspect(refreshed.access_token)).active, false);
        assert.equal((await app.introspect(refreshed.refresh_token!)).active, false);
      });
    }
  });
}
