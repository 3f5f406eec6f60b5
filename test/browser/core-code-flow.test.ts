/**
 * The whole flow as a real app drives it: oauth4webapi for the protocol, headless Chromium for the
 * user's part (sign in, Authorize), a loopback redirect URI that receives the code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { browserSuite, useBrowser } from '../support/browser.js';
import { sqliteTarget } from '../support/database.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedClient, seedOrganization, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('code flow in headless Chromium', browserSuite, () => {
  const ui = useBrowser();
  let server: TestServer;

  before(async () => {
    server = await startTestServer(sqliteTarget);
  });
  after(async () => {
    await server?.close();
  });

  it('discovery → PKCE → sign in and Authorize → code → token → refresh → revoke → introspection inactive', async () => {
    const user = await seedUser(server.ctx, 'ada@example.com');
    await seedOrganization(server.ctx, user.id, 'Acme', ['Web', 'Mobile']);
    const { client, clientSecret } = await seedClient(server.ctx, { name: 'PocketHog', redirectUris: [ui.callbacks.redirectUri] });
    const app = await TestOAuthClient.discover(server.url, { clientId: client.id, clientSecret, redirectUri: ui.callbacks.redirectUri });
    const { url, codeVerifier, state } = await app.authorizationUrl('project:read annotation:write');

    const page = await ui.browser.newPage();
    await page.goto(url.href);
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Authorize' }).waitFor();
    assert.match(await page.textContent('h1') ?? '', /PocketHog wants to access/);
    assert.match(await page.content(), /127\.0\.0\.1/);
    await page.screenshot({ path: '/tmp/tessera-consent.png', fullPage: true });
    const landed = ui.callbacks.next();
    await page.getByRole('button', { name: 'Authorize' }).click();
    const callback = await landed;
    await page.close();

    const tokens = await app.exchange(callback, codeVerifier, state);
    assert.match(tokens.access_token, /^pha_/);
    const refreshed = await app.refresh(tokens.refresh_token!);
    assert.equal((await app.introspect(refreshed.access_token)).active, true);
    await app.revoke(refreshed.refresh_token!);
    assert.equal((await app.introspect(refreshed.access_token)).active, false);
  });
});
