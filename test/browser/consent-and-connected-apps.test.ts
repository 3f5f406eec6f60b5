/**
 * In headless Chromium: narrowing a grant to one project on the consent page, then what the token
 * can and cannot read; revoking the app from Settings › Connected apps, then the app's next API
 * request and refresh failing; a personal API key created in Settings working on the API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuite, useBrowser } from '../support/browser.js';
import { sqliteTarget } from '../support/database.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedClient, seedOrganization, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('consent narrowing and connected apps in headless Chromium', browserSuite, () => {
  const ui = useBrowser();
  let server: TestServer;
  let page: Page;
  let app: TestOAuthClient;
  let projects: { web: string; mobile: string };
  let organizationId: string;

  before(async () => {
    server = await startTestServer(sqliteTarget);
    const user = await seedUser(server.ctx, 'grace@example.com');
    const seeded = await seedOrganization(server.ctx, user.id, 'Acme', ['Web', 'Mobile']);
    organizationId = seeded.organization.id;
    projects = { web: seeded.projects[0]!.id, mobile: seeded.projects[1]!.id };
    const { client, clientSecret } = await seedClient(server.ctx, { name: 'PocketHog', redirectUris: [ui.callbacks.redirectUri] });
    app = await TestOAuthClient.discover(server.url, { clientId: client.id, clientSecret, redirectUri: ui.callbacks.redirectUri });
    page = await ui.browser.newPage();
  });
  after(async () => {
    await server?.close();
  });

  const get = (token: string, path: string) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } }).then((response) => response.status);

  it('narrows a grant to one project on the consent page; the token reads only that project', async () => {
    const { url, codeVerifier, state } = await app.authorizationUrl('organization:read project:read');
    await page.goto(url.href);
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Authorize' }).waitFor();
    await page.getByLabel('Specific projects').check();
    await page.getByLabel('Mobile').check();
    const landed = ui.callbacks.next();
    await page.getByRole('button', { name: 'Authorize' }).click();
    const tokens = await app.exchange(await landed, codeVerifier, state);

    assert.equal(tokens.access_level, 'project');
    assert.deepEqual(tokens.scoped_projects, [projects.mobile]);
    assert.equal(await get(tokens.access_token, `/api/projects/${projects.mobile}`), 200);
    assert.equal(await get(tokens.access_token, `/api/projects/${projects.web}`), 403);
    assert.equal(await get(tokens.access_token, `/api/organizations/${organizationId}/projects`), 403);
    assert.equal((await app.introspect(tokens.access_token)).scoped_projects?.toString(), projects.mobile);
  });

  it('revokes the app from Settings › Connected apps; its next request and its refresh fail', async () => {
    const { url, codeVerifier, state } = await app.authorizationUrl('organization:read project:read', { prompt: 'consent' });
    await page.goto(url.href);
    const landed = ui.callbacks.next();
    await page.getByRole('button', { name: 'Authorize' }).click();
    const tokens = await app.exchange(await landed, codeVerifier, state);
    assert.equal(await get(tokens.access_token, '/api/organizations'), 200);

    await page.goto(`${server.url}/settings/connected-apps`);
    const row = page.getByRole('row', { name: /PocketHog/ });
    assert.match((await row.textContent()) ?? '', /project:read/);
    assert.match((await row.textContent()) ?? '', /All organizations and projects/);
    await page.getByRole('button', { name: 'Revoke PocketHog' }).click();
    await page.getByRole('button', { name: 'Revoke access' }).click();
    await page.getByRole('status').waitFor();
    assert.match((await page.getByRole('status').textContent()) ?? '', /PocketHog no longer has access/);
    assert.equal(await page.getByRole('row', { name: /PocketHog/ }).count(), 0);

    await new Promise((resolve) => setTimeout(resolve, server.config.tokenCacheMs + 50));
    assert.equal(await get(tokens.access_token, '/api/organizations'), 401);
    await assert.rejects(app.refresh(tokens.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
  });

  it('asks for the password again when the session is older than 10 minutes', async () => {
    const { url, codeVerifier, state } = await app.authorizationUrl('project:read', { prompt: 'consent' });
    await page.goto(url.href);
    const landed = ui.callbacks.next();
    await page.getByRole('button', { name: 'Authorize' }).click();
    await app.exchange(await landed, codeVerifier, state);

    server.advance(11 * 60_000);
    await page.goto(`${server.url}/settings/connected-apps`);
    await page.getByRole('button', { name: 'Revoke PocketHog' }).click();
    await page.getByLabel('Confirm with your password').fill('wrong password here');
    await page.getByRole('button', { name: 'Revoke access' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('Confirm with your password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Revoke access' }).click();
    await page.getByRole('status').waitFor();
    assert.equal(await page.getByRole('row', { name: /PocketHog/ }).count(), 0);
  });

  it('creates a personal API key narrowed to one project; it is shown once and works on the API', async () => {
    await page.goto(`${server.url}/settings/api-keys`);
    await page.getByLabel('Label').fill('laptop');
    await page.getByRole('checkbox', { name: /project:read/ }).check();
    await page.getByLabel('Specific projects').check();
    await page.getByLabel('Web').check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = ((await page.getByTestId('new-api-key').textContent()) ?? '').trim();
    assert.match(key, /^phx_/);
    assert.equal(await get(key, `/api/projects/${projects.web}`), 200);
    assert.equal(await get(key, `/api/projects/${projects.mobile}`), 403);

    await page.goto(`${server.url}/settings/api-keys`);
    assert.equal(await page.getByTestId('new-api-key').count(), 0, 'the key is never shown again');
    const row = page.getByRole('row', { name: /laptop/ });
    assert.match((await row.textContent()) ?? '', /Acme \/ Web/);
    assert.doesNotMatch((await row.textContent()) ?? '', /Never$/);
    await page.getByRole('button', { name: 'Revoke laptop' }).click();
    await page.getByRole('status').waitFor();
    await new Promise((resolve) => setTimeout(resolve, server.config.tokenCacheMs + 50));
    assert.equal(await get(key, `/api/projects/${projects.web}`), 401);
  });
});
