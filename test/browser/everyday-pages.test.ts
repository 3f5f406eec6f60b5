/**
 * The pages a user meets in their first hour, in headless Chromium: sign-in names the app it
 * continues to, sign-up shows the password rule first, Connected apps speaks in plain words and
 * confirms before revoking, the settings navigation marks the current page, error pages lead home,
 * the developer-app form lists all its mistakes at once. Every page fits a phone and 200% zoom
 * and passes axe-core with no serious or critical violation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { assertAccessible, assertFitsWidth, PHONE, ZOOM_200 } from '../support/accessibility.js';
import { browserSuite, useBrowser } from '../support/browser.js';
import { sqliteTarget } from '../support/database.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedClient, seedOrganization, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SETTINGS_PAGES = [
  ['/settings/security', 'Security'],
  ['/settings/connected-apps', 'Connected apps'],
  ['/settings/api-keys', 'Personal API keys'],
  ['/settings/developers/apps', 'Developers › Apps'],
  ['/settings/activity', 'Recent activity'],
] as const;

describe('everyday pages in headless Chromium', browserSuite, () => {
  const ui = useBrowser();
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let app: TestOAuthClient;

  async function signIn(target: Page, email: string) {
    await target.getByLabel('Email').fill(email);
    await target.getByLabel('Password').fill(PASSWORD);
    await target.getByRole('button', { name: 'Sign in' }).click();
  }

  /** Connects the app with a long, realistic scope set, so Connected apps has a row to show. */
  async function connect(target: Page) {
    const { url, codeVerifier, state } = await app.authorizationUrl('openid profile email organization:read project:read annotation:write', { prompt: 'consent' });
    await target.goto(url.href);
    const landed = ui.callbacks.next();
    await target.getByRole('button', { name: 'Authorize' }).click();
    await app.exchange(await landed, codeVerifier, state);
  }

  before(async () => {
    server = await startTestServer(sqliteTarget);
    const user = await seedUser(server.ctx, 'mara.longaddress.for-phones@example.com');
    await seedOrganization(server.ctx, user.id, 'Acme', ['Web']);
    const { client, clientSecret } = await seedClient(server.ctx, { name: 'Pocket Ledger', redirectUris: [ui.callbacks.redirectUri] });
    app = await TestOAuthClient.discover(server.url, { clientId: client.id, clientSecret, redirectUri: ui.callbacks.redirectUri });
    context = await ui.browser.newContext();
    page = await context.newPage();
  });
  after(async () => {
    await context?.close();
    await server?.close();
  });

  it('sign-in says which app it continues to when an authorization request sent the user', async () => {
    await page.goto(`${server.url}/login`);
    assert.equal(await page.locator('.continue-to').count(), 0, 'a plain sign-in names no app');

    const { url } = await app.authorizationUrl('project:read');
    await page.goto(url.href);
    assert.equal((await page.locator('.continue-to').textContent())?.trim(), 'to continue to Pocket Ledger');
    await page.getByLabel('Email').fill('mara.longaddress.for-phones@example.com');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    assert.equal((await page.locator('.continue-to').textContent())?.trim(), 'to continue to Pocket Ledger', 'still named after a wrong password');
    await signIn(page, 'mara.longaddress.for-phones@example.com');
    await page.getByRole('button', { name: 'Authorize' }).waitFor();
  });

  it('sign-up shows the password rule before anything is typed', async () => {
    const fresh = await ui.browser.newPage();
    await fresh.goto(`${server.url}/signup`);
    const rule = fresh.locator('#password-rule');
    assert.equal(await rule.isVisible(), true);
    assert.match((await rule.textContent()) ?? '', /\d+ characters/);
    assert.equal(await fresh.getByLabel('Password').getAttribute('aria-describedby'), 'password-rule');
    await fresh.close();
  });

  it('Connected apps lists what the app can do in plain words and asks before revoking', async () => {
    await connect(page);
    await page.goto(`${server.url}/settings/connected-apps`);
    const row = page.getByRole('row', { name: /Pocket Ledger/ });
    const text = (await row.textContent()) ?? '';
    assert.match(text, /See your projects/);
    assert.match(text, /project:read/, 'the scope itself is still there, beside its words');

    await page.getByRole('button', { name: 'Revoke Pocket Ledger' }).click();
    assert.match((await page.locator('h1').textContent()) ?? '', /Revoke Pocket Ledger\?/);
    assert.equal(await page.getByLabel('Confirm with your password').count(), 0, 'a fresh sign-in needs no password');
    await page.getByRole('link', { name: 'Cancel' }).click();
    assert.equal(await page.getByRole('row', { name: /Pocket Ledger/ }).count(), 1, 'Cancel keeps the app');

    await page.getByRole('button', { name: 'Revoke Pocket Ledger' }).click();
    await page.getByRole('button', { name: 'Revoke access' }).click();
    assert.match((await page.getByRole('status').textContent()) ?? '', /Pocket Ledger no longer has access/);
    assert.equal(await page.getByRole('row', { name: /Pocket Ledger/ }).count(), 0);
  });

  it('the settings navigation marks the current page', async () => {
    for (const [path, label] of SETTINGS_PAGES) {
      await page.goto(`${server.url}${path}`);
      const current = page.getByRole('navigation', { name: 'Settings' }).locator('[aria-current="page"]');
      assert.equal(await current.count(), 1, path);
      assert.equal((await current.textContent())?.trim(), label, path);
    }
  });

  it('error pages lead home: an unknown address and a bad link', async () => {
    const missing = await page.goto(`${server.url}/no/such/page`);
    assert.equal(missing?.status(), 404);
    await page.getByRole('link', { name: /home page/ }).click();
    assert.equal(new URL(page.url()).pathname, '/');

    await page.goto(`${server.url}/oauth/authorize?client_id=pca_nobody&response_type=code`);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /not known/);
    assert.equal(await page.getByRole('link', { name: /home page/ }).count(), 1);
  });

  it('the developer-app form shows every mistake at once', async () => {
    await page.goto(`${server.url}/settings/developers/apps/new`);
    await page.getByLabel('Name', { exact: true }).fill('x'.repeat(3));
    await page.getByLabel('Redirect URLs').fill('http://app.example/callback');
    await page.getByLabel('Or an https URL of the image').fill('http://cdn.example/logo.png');
    await page.getByRole('button', { name: 'Create app' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const items = await alert.getByRole('listitem').allTextContents();
    assert.ok(items.length >= 2, `several mistakes listed: ${JSON.stringify(items)}`);
    assert.ok(items.some((item) => /Redirect URL/.test(item)), 'the redirect URL mistake');
    assert.ok(items.some((item) => /logo URL/.test(item)), 'the logo URL mistake');
    assert.equal(await page.getByLabel('Redirect URLs').inputValue(), 'http://app.example/callback', 'the values are kept');
  });

  for (const [name, options] of [['a phone', PHONE], ['200% zoom', ZOOM_200]] as const) {
    it(`every page fits ${name} and passes axe-core`, async () => {
      const small = await ui.browser.newContext({ ...options, storageState: await context.storageState() });
      try {
        const smallPage = await small.newPage();
        await connect(smallPage);
        const { url } = await app.authorizationUrl('project:read', { prompt: 'login' });
        const pages: Array<[string, string]> = [
          ...SETTINGS_PAGES.map(([path]) => [path, `${server.url}${path}`] as [string, string]),
          ['sign-in for an app', url.href],
          ['not found', `${server.url}/no/such/page`],
        ];
        for (const [what, href] of pages) {
          await smallPage.goto(href);
          await assertFitsWidth(smallPage, `${what} on ${name}`);
          await assertAccessible(smallPage, `${what} on ${name}`);
        }
        await smallPage.goto(`${server.url}/settings/connected-apps`);
        await smallPage.getByRole('button', { name: 'Revoke Pocket Ledger' }).click();
        await assertFitsWidth(smallPage, `revoke confirmation on ${name}`);
        await assertAccessible(smallPage, `revoke confirmation on ${name}`);

        const signedOut = await ui.browser.newContext(options);
        const signedOutPage = await signedOut.newPage();
        for (const path of ['/login', '/signup', '/password/forgot']) {
          await signedOutPage.goto(`${server.url}${path}`);
          await assertFitsWidth(signedOutPage, `${path} on ${name}`);
          await assertAccessible(signedOutPage, `${path} on ${name}`);
        }
        await signedOut.close();
      } finally {
        await small.close();
      }
    });
  }
});
