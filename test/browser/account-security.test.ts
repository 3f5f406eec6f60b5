/**
 * Account recovery and two-factor sign-in as a person does them, in headless Chromium: "Forgot
 * password?", the mailed link and a new password; then enrolling an authenticator from the QR
 * code page (the image must render under the CSP), keeping the recovery codes, and signing in
 * with password and code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as OTPAuth from 'otpauth';
import { listMail } from '../../packages/server/src/platform/mail.js';
import { browserSuite, useBrowser } from '../support/browser.js';
import { sqliteTarget } from '../support/database.js';
import { PASSWORD, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';

const NEW_PASSWORD = 'copper lantern orchard nineteen';

describe('account security in headless Chromium', browserSuite, () => {
  const ui = useBrowser();
  let server: TestServer;

  before(async () => {
    server = await startTestServer(sqliteTarget);
  });
  after(async () => {
    await server?.close();
  });

  it('resets a forgotten password through the mailed link', async () => {
    const user = await seedUser(server.ctx, 'forgetful@example.com');
    const page = await ui.browser.newPage();
    await page.goto(`${server.url}/login`);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByLabel('Email').fill(user.email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();

    const [mail] = await listMail(server.ctx.store, { to: user.email });
    const link = /https?:\/\/\S+\/password\/reset\?token=\S+/.exec(mail!.body)![0];
    await page.goto(link);
    assert.match((await page.textContent('#password-rule')) ?? '', /hard to guess/, 'the rule is shown before typing');
    await page.getByLabel('New password').fill('password123');
    await page.getByRole('button', { name: 'Set new password' }).click();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /too easy to guess/);
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByRole('status').waitFor();
    assert.match((await page.getByRole('status').textContent()) ?? '', /Your password was changed/);

    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: `Signed in as ${user.email}` }).waitFor();
    await page.close();
  });

  it('enrols an authenticator from the QR code page and signs in with password and code', async () => {
    const user = await seedUser(server.ctx, 'careful@example.com');
    const page = await ui.browser.newPage();
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    await page.goto(`${server.url}/login?return_to=%2Fsettings%2Fsecurity`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();

    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    const size = await qr.evaluate((image: HTMLImageElement) => (image.complete ? image.naturalWidth : 0));
    assert.ok(size > 0, 'the QR code image renders under the CSP');
    assert.deepEqual(blocked, []);
    await page.screenshot({ path: '/tmp/tessera-two-factor-enrolment.png', fullPage: true });

    const secret = (await page.textContent('#totp-secret'))!.trim();
    const code = () => OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: server.ctx.now() });
    await page.getByLabel('Code from the app').fill(code());
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
    await codes.first().waitFor();
    assert.equal(await codes.count(), 10);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    server.advance(30_000);
    await page.getByLabel('Code').fill(code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: `Signed in as ${user.email}` }).waitFor();

    await page.goto(`${server.url}/settings/security`);
    assert.match((await page.textContent('main')) ?? '', /On\. Signing in asks for a code/);
    await page.goto(`${server.url}/settings/activity`);
    assert.match((await page.textContent('main')) ?? '', /Two-factor sign-in turned on/);
    await page.close();
  });
});
