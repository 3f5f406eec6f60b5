/**
 * The region picker in headless Chromium: an app that knows only the front sends the user there; the
 * user picks the European Union, signs in and authorizes in the EU region, and the app exchanges the code at
 * the front. The next sign-in goes straight to the remembered region. The picker names the app,
 * asking the regions, and shows itself without the name when no region answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setClientVerified } from '../../packages/server/src/core/clients/admin.js';
import { assertAccessible, assertFitsWidth, PHONE } from '../support/accessibility.js';
import type { Page } from 'playwright-core';
import { browserSuite, useBrowser } from '../support/browser.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { startRegions, type Regions } from '../support/regions.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';

describe('region picker in headless Chromium', browserSuite, () => {
  const ui = useBrowser();
  let regions: Regions;

  before(async () => {
    regions = await startRegions();
  });
  after(async () => {
    await regions?.close();
  });

  it('picks a region, signs in there, and remembers the choice', async () => {
    const { eu, frontUrl } = regions;
    const user = await seedUser(eu.ctx);
    const { client, clientSecret } = await seedClient(eu.ctx, { name: 'Atlas', redirectUris: [ui.callbacks.redirectUri] });
    const app = await TestOAuthClient.discover(frontUrl, { clientId: client.id, clientSecret, redirectUri: ui.callbacks.redirectUri });
    const context = await ui.browser.newContext();
    const page = await context.newPage();

    const first = await app.authorizationUrl('project:read');
    await page.goto(first.url.href);
    assert.match((await page.textContent('h1')) ?? '', /Where is your .* account\?/);
    await page.getByRole('link', { name: 'European Union (EU)' }).click();
    await page.getByLabel('Email').fill(user.email);
    assert.equal(new URL(page.url()).origin, eu.url);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const landed = ui.callbacks.next();
    await page.getByRole('button', { name: 'Authorize' }).click();
    const tokens = await app.exchange(await landed, first.codeVerifier, first.state);
    assert.equal(tokens.region, 'eu');

    // Remembered region, existing session, scopes already granted: straight back to the app.
    const second = await app.authorizationUrl('project:read');
    const landedAgain = ui.callbacks.next();
    await page.goto(second.url.href);
    const callback = await landedAgain;
    assert.equal(callback.searchParams.get('iss'), frontUrl);
    assert.match((await app.exchange(callback, second.codeVerifier, second.state)).access_token, /^pha_/);
    await context.close();
  });

  it('names the regions in words, fits a phone and passes axe-core', async () => {
    const { client } = await seedClient(regions.eu.ctx, { name: 'Atlas Phone', redirectUris: [ui.callbacks.redirectUri] });
    const app = await TestOAuthClient.discover(regions.frontUrl, { clientId: client.id, redirectUri: ui.callbacks.redirectUri });
    const context = await ui.browser.newContext(PHONE);
    const page = await context.newPage();
    await page.goto((await app.authorizationUrl('project:read')).url.href);
    assert.deepEqual(await page.locator('[data-region]').allTextContents(), ['United States (US)', 'European Union (EU)']);
    await assertFitsWidth(page, 'region picker on a phone');
    await assertAccessible(page, 'region picker on a phone');
    await context.close();
  });

  it('a region that does not know the app offers the other regions', async () => {
    const user = await seedUser(regions.eu.ctx);
    const { client, clientSecret } = await seedClient(regions.eu.ctx, { name: 'Atlas Elsewhere', redirectUris: [ui.callbacks.redirectUri] });
    const app = await TestOAuthClient.discover(regions.frontUrl, { clientId: client.id, clientSecret, redirectUri: ui.callbacks.redirectUri });
    const context = await ui.browser.newContext();
    const page = await context.newPage();
    const { url, codeVerifier, state } = await app.authorizationUrl('project:read');
    await page.goto(url.href);
    await page.getByRole('link', { name: 'United States (US)' }).click();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /not known to us\. Your account may be in another region/);
    await assertAccessible(page, 'unknown app in a region');
    await page.getByRole('link', { name: 'Try European Union (EU)' }).click();
    assert.equal(new URL(page.url()).origin, regions.eu.url);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const landed = ui.callbacks.next();
    await page.getByRole('button', { name: 'Authorize' }).click();
    assert.equal((await app.exchange(await landed, codeVerifier, state)).region, 'eu');
    await context.close();
  });

  it('names an app registered in one region, with its logo or a lettered placeholder', async () => {
    const { client: notes } = await seedClient(regions.us.ctx, { name: 'Northwind Notes', redirectUris: [ui.callbacks.redirectUri] });
    const { client: ledger } = await seedClient(regions.eu.ctx, { name: 'Ledger', logoUri: 'https://127.0.0.1:1/ledger.png', redirectUris: [ui.callbacks.redirectUri] });
    await setClientVerified(regions.eu.ctx, ledger.id, true, 'test');
    const context = await ui.browser.newContext(PHONE);
    const page = await context.newPage();

    await page.goto(await pickerUrl(notes.id));
    assert.equal(await continueTo(page), 'Sign in to continue to Northwind Notes');
    assert.equal(await page.locator('.signing-in-to .badge').count(), 0, 'not verified');
    assert.equal((await page.locator('.signing-in-to .logo.placeholder').textContent())?.trim(), 'N');
    assert.match((await page.textContent('h1')) ?? '', /Where is your .* account\?/);
    assert.deepEqual(await page.locator('[data-region]').allTextContents(), ['United States (US)', 'European Union (EU)']);
    await assertFitsWidth(page, 'region picker naming the app on a phone');
    await assertAccessible(page, 'region picker naming the app');

    await page.goto(await pickerUrl(ledger.id));
    assert.match((await continueTo(page)) ?? '', /^Sign in to continue to Ledger/);
    assert.equal(await page.locator('.signing-in-to .badge.verified').textContent(), 'Verified');
    assert.equal(await page.locator('.signing-in-to img.logo').getAttribute('src'), 'https://127.0.0.1:1/ledger.png');
    await assertAccessible(page, 'region picker with a verified app’s logo');
    await context.close();
  });

  it('shows the picker without the name when no region answers', async () => {
    // Regions of its own: one of them is stopped.
    const alone = await startRegions();
    try {
      const { client } = await seedClient(alone.us.ctx, { name: 'Gone Quiet', redirectUris: [ui.callbacks.redirectUri] });
      await alone.us.close();
      const page = await ui.browser.newPage();
      const started = Date.now();
      await page.goto(await pickerUrl(client.id, alone.frontUrl));
      assert.ok(Date.now() - started < 3000, `the picker took ${Date.now() - started} ms`);
      assert.equal(await page.locator('.signing-in-to').count(), 0);
      assert.match((await page.textContent('h1')) ?? '', /Where is your .* account\?/);
      await page.getByRole('link', { name: 'European Union (EU)' }).click();
      assert.equal(new URL(page.url()).origin, alone.eu.url);
      await page.close();
    } finally {
      await alone.front.close();
      await alone.eu.close();
    }
  });

  /** The front's authorization URL for a client, as its app would send the user there. */
  async function pickerUrl(clientId: string, frontUrl = regions.frontUrl): Promise<string> {
    const app = await TestOAuthClient.discover(frontUrl, { clientId, redirectUri: ui.callbacks.redirectUri });
    return (await app.authorizationUrl('project:read')).url.href;
  }

  function continueTo(page: Page): Promise<string | undefined> {
    return page.locator('.signing-in-to .continue-to').textContent().then((text) => text?.replace(/\s+/g, ' ').trim());
  }
});
