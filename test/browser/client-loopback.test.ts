/**
 * signInWithBrowser with headless Chromium as the user's browser: `open` navigates to the
 * authorization URL, the user signs in and authorizes, and the browser lands on the loopback page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TesseraClient } from '../../packages/client/src/index.js';
import { signInWithBrowser } from '../../packages/client/src/node.js';
import { browserSuite, useBrowser } from '../support/browser.js';
import { sqliteTarget } from '../support/database.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('signInWithBrowser in headless Chromium', browserSuite, () => {
  const ui = useBrowser();
  let server: TestServer;

  before(async () => {
    server = await startTestServer(sqliteTarget);
  });
  after(async () => {
    await server?.close();
  });

  it('opens the authorization page, and the browser ends on "you can close this tab"', async () => {
    const user = await seedUser(server.ctx, 'grace@example.com');
    const { client } = await seedClient(server.ctx, { name: 'Tessera CLI', isPublic: true, redirectUris: ['http://127.0.0.1/callback'] });
    const tessera = await TesseraClient.discover({ issuer: server.url, clientId: client.id, redirectUri: 'http://127.0.0.1/callback' });
    const page = await ui.browser.newPage();
    const tokens = await signInWithBrowser(tessera, {
      scope: 'openid email user:read',
      async open(url) {
        await page.goto(url);
        await page.getByLabel('Email').fill(user.email);
        await page.getByLabel('Password').fill(PASSWORD);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
      },
    });
    await page.getByText('You can close this tab').waitFor();
    assert.match(page.url(), /^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
    assert.equal(await page.title(), 'Signed in');
    await page.close();
    assert.equal(tokens.idTokenClaims!.email, 'grace@example.com');
  });
});
