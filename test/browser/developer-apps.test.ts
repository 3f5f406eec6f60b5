/**
 * A developer's whole journey in headless Chromium: create an app (with a logo) in Settings ›
 * Developers › Apps, complete a code flow with it, rotate its secret, and delete it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuite, useBrowser } from '../support/browser.js';
import { sqliteTarget } from '../support/database.js';
import { basicAuth, TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedOrganization, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** A valid 1×1 PNG, so the browser can decode the logo it is served. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

describe('developer apps in headless Chromium', browserSuite, () => {
  const ui = useBrowser();
  let server: TestServer;

  before(async () => {
    server = await startTestServer(sqliteTarget);
  });
  after(async () => {
    await server?.close();
  });

  const refreshWith = (clientId: string, secret: string, refreshToken: string) =>
    fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
  const userinfo = (accessToken: string) => fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  const shown = async (page: Page, id: string) => (await page.locator(`#${id}`).textContent())?.trim() ?? '';

  it('create an app → code flow with it → rotate its secret → delete it', async () => {
    const user = await seedUser(server.ctx, 'grace@example.com');
    await seedOrganization(server.ctx, user.id, 'Acme', ['Web']);
    const page = await ui.browser.newPage();

    // Create, signing in on the way.
    await page.goto(`${server.url}/settings/developers/apps`);
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Create an app' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Chart Pocket');
    await page.getByLabel('Description').fill('Your charts, on the go');
    await page.getByLabel('Redirect URLs').fill(ui.callbacks.redirectUri);
    for (const scope of ['openid', 'profile', 'project:read']) await page.locator(`input[name=scope][value="${scope}"]`).check();
    await page.locator('#logo').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: PNG });
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.locator('#client-secret').waitFor();
    const clientId = await shown(page, 'client-id');
    const firstSecret = await shown(page, 'client-secret');
    assert.match(clientId, /^pca_/);
    assert.match(firstSecret, /^pcs_/);

    // A code flow with the new app, its logo on the consent page.
    const app = await TestOAuthClient.discover(server.url, { clientId, clientSecret: firstSecret, redirectUri: ui.callbacks.redirectUri });
    const { url, codeVerifier, state } = await app.authorizationUrl('openid project:read');
    await page.goto(url.href);
    await page.getByRole('button', { name: 'Authorize' }).waitFor();
    assert.match((await page.textContent('h1')) ?? '', /Chart Pocket wants to access/);
    const logo = page.locator('img.logo');
    assert.match((await logo.getAttribute('src')) ?? '', new RegExp(`^${server.url}/logos/${clientId}\\?v=\\d+$`));
    assert.equal(await logo.evaluate((image: HTMLImageElement) => image.decode().then(() => image.naturalWidth)), 1);
    const landed = ui.callbacks.next();
    await page.getByRole('button', { name: 'Authorize' }).click();
    const tokens = await app.exchange(await landed, codeVerifier, state);
    assert.equal((await userinfo(tokens.access_token)).status, 200);

    // Rotate: the old secret is refused at once; the token issued before keeps working.
    await page.goto(`${server.url}/settings/developers/apps`);
    await page.getByRole('link', { name: 'Chart Pocket' }).click();
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.locator('#client-secret').waitFor();
    const secondSecret = await shown(page, 'client-secret');
    assert.match(secondSecret, /^pcs_/);
    assert.notEqual(secondSecret, firstSecret);
    const withOld = await refreshWith(clientId, firstSecret, tokens.refresh_token!);
    assert.equal(withOld.status, 401);
    assert.equal(((await withOld.json()) as { error: string }).error, 'invalid_client');
    const rotatedApp = new TestOAuthClient(app.as, { clientId, clientSecret: secondSecret, redirectUri: ui.callbacks.redirectUri });
    assert.equal((await rotatedApp.introspect(tokens.access_token)).active, true);
    assert.equal((await userinfo(tokens.access_token)).status, 200);
    const refreshed = await rotatedApp.refresh(tokens.refresh_token!);

    // Delete, after naming the app: every token stops working and the client id is refused.
    await page.getByRole('link', { name: "Continue to the app's settings" }).click();
    await page.getByRole('link', { name: 'Delete this app' }).click();
    await page.getByLabel("Type the app's name").fill('Chart Pocket');
    await page.getByRole('button', { name: 'Delete Chart Pocket' }).click();
    await page.getByText('The app was deleted.').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Chart Pocket' }).count(), 0);
    await page.close();

    for (const accessToken of [tokens.access_token, refreshed.access_token]) assert.equal((await userinfo(accessToken)).status, 401);
    const afterDelete = await refreshWith(clientId, secondSecret, refreshed.refresh_token!);
    assert.equal(afterDelete.status, 401);
    assert.equal(((await afterDelete.json()) as { error: string }).error, 'invalid_client');
  });
});
