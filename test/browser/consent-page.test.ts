/**
 * The consent page in headless Chromium: a refused choice comes back as the user left it with the
 * reason beside the field, each list shows only under its own option, the app's logo or initial
 * and who registered it; on a phone and at 200% zoom it fits, and axe-core finds nothing serious.
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

describe('the consent page in headless Chromium', browserSuite, () => {
  const ui = useBrowser();
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let devApp: TestOAuthClient;
  let dynamicApp: TestOAuthClient;

  before(async () => {
    server = await startTestServer(sqliteTarget);
    const user = await seedUser(server.ctx, 'lin@example.com');
    const { organization } = await seedOrganization(server.ctx, user.id, 'Acme', ['Web', 'Mobile']);
    await seedOrganization(server.ctx, user.id, 'Globex', ['Data']);
    const redirectUri = ui.callbacks.redirectUri;
    const made = await seedClient(server.ctx, { kind: 'app', name: 'Quill', organizationId: organization.id, redirectUris: [redirectUri] });
    devApp = await TestOAuthClient.discover(server.url, { clientId: made.client.id, clientSecret: made.clientSecret, redirectUri });
    const dynamic = await seedClient(server.ctx, { kind: 'dynamic', name: 'Self Made', redirectUris: [redirectUri], isPublic: true });
    dynamicApp = await TestOAuthClient.discover(server.url, { clientId: dynamic.client.id, redirectUri });
    context = await ui.browser.newContext();
    page = await context.newPage();
    const { url } = await devApp.authorizationUrl('project:read');
    await page.goto(url.href);
    await page.getByLabel('Email').fill('lin@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Authorize' }).waitFor();
  });
  after(async () => {
    await context?.close();
    await server?.close();
  });

  const visible = (label: string) => page.getByLabel(label, { exact: true }).isVisible();

  it('shows each list only under the option that is chosen', async () => {
    const { url } = await devApp.authorizationUrl('project:read');
    await page.goto(url.href);
    assert.equal(await page.getByLabel('All organizations and projects').isChecked(), true);
    assert.deepEqual([await visible('Acme'), await visible('Web'), await visible('Data')], [false, false, false], 'under All, no list');
    await page.getByLabel('Specific organizations').check();
    assert.deepEqual([await visible('Acme'), await visible('Globex'), await visible('Web')], [true, true, false]);
    await page.getByLabel('Specific projects').check();
    assert.deepEqual([await visible('Acme'), await visible('Web'), await visible('Mobile'), await visible('Data')], [false, true, true, true]);
  });

  it('keeps the choice after an error and says what is wrong next to the field; a second Authorize does not grant everything', async () => {
    const { url, codeVerifier, state } = await devApp.authorizationUrl('project:read');
    await page.goto(url.href);
    await page.getByLabel('Specific projects').check();
    await page.getByRole('button', { name: 'Authorize' }).click();

    const message = page.getByRole('group', { name: 'Which of your data' }).getByRole('alert');
    assert.equal((await message.textContent())?.trim(), 'Choose at least one project to share.');
    assert.equal(await page.getByLabel('Specific projects').isChecked(), true, 'the choice is kept');
    assert.equal(await page.getByLabel('All organizations and projects').isChecked(), false);
    assert.equal(await page.getByRole('group', { name: 'Which of your data' }).getAttribute('aria-describedby'), 'access-error');
    assert.equal(await visible('Web'), true);

    await page.getByRole('button', { name: 'Authorize' }).click();
    assert.equal(await message.count(), 1, 'still refused: the choice stayed "Specific projects"');

    await page.getByLabel('Specific organizations').check();
    await page.getByLabel('Globex').check();
    await page.getByLabel('Specific projects').check();
    await page.getByRole('button', { name: 'Authorize' }).click();
    // Organizations ticked under another option are not what was chosen: still refused, and the ticks are kept.
    assert.equal(await page.getByLabel('Specific projects').isChecked(), true);
    await page.getByLabel('Specific organizations').check();
    assert.equal(await page.getByLabel('Globex').isChecked(), true);

    await page.getByLabel('Specific projects').check();
    await page.getByLabel('Mobile').check();
    const landed = ui.callbacks.next();
    await page.getByRole('button', { name: 'Authorize' }).click();
    const tokens = await devApp.exchange(await landed, codeVerifier, state);
    assert.equal(tokens.access_level, 'project');
  });

  it('shows a lettered placeholder for an app with no logo and the organization that registered it', async () => {
    const { url } = await devApp.authorizationUrl('project:read', { prompt: 'consent' });
    await page.goto(url.href);
    assert.equal((await page.locator('.logo.placeholder').textContent())?.trim(), 'Q');
    assert.match((await page.locator('.registrant').textContent()) ?? '', /Registered by the organization Acme/);
    assert.equal(await page.locator('.badge.unverified').count(), 0);
  });

  it('marks a dynamically registered client unverified, with the host it stands on', async () => {
    const { url } = await dynamicApp.authorizationUrl('project:read');
    await page.goto(url.href);
    const registrant = (await page.locator('.registrant').textContent()) ?? '';
    assert.match(registrant, /Unverified/);
    assert.match(registrant, new RegExp(`Registered itself from ${new URL(ui.callbacks.redirectUri).host.replace('.', '\\.')}`));
  });

  for (const [name, options] of [['a phone', PHONE], ['200% zoom', ZOOM_200]] as const) {
    it(`fits ${name} and passes axe-core, with an error showing`, async () => {
      const small = await ui.browser.newContext({ ...options, storageState: await context.storageState() });
      try {
        const smallPage = await small.newPage();
        const { url } = await devApp.authorizationUrl('project:read organization:read', { prompt: 'consent' });
        await smallPage.goto(url.href);
        await smallPage.getByLabel('Specific organizations').check();
        await smallPage.getByRole('button', { name: 'Authorize' }).click();
        await smallPage.locator('#access-error').waitFor();
        await assertFitsWidth(smallPage, `consent on ${name}`);
        await assertAccessible(smallPage, `consent on ${name}`);
      } finally {
        await small.close();
      }
    });
  }
});
