/**
 * The region picker in headless Chromium: an app that knows only the front sends the user there; the
 * user picks the European Union, signs in and authorizes in the EU region, and the app exchanges the code at
 * the front. The next sign-in goes straight to the remembered region.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertAccessible, assertFitsWidth, PHONE } from '../support/accessibility.js';
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
});
