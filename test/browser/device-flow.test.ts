/**
 * The device authorization grant (RFC 8628) as a real device and a real user drive it: oauth4webapi's
 * device-flow functions on the device, headless Chromium on the user's computer typing the code at
 * /device, signing in and deciding on the consent page. Polling answers authorization_pending,
 * slow_down, access_denied and expired_token; a device code and a user code work once; wrong codes
 * run out of budget. The server's clock is moved instead of waiting out intervals and lifetimes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { browserSuite, useBrowser } from '../support/browser.js';
import { device, DEVICE_GRANT, enterCode, signIn } from '../support/device.js';
import { sqliteTarget, storageTargets } from '../support/database.js';
import { seedClient, seedOrganization, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';

const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

for (const target of storageTargets()) {
  describe(`device authorization grant with oauth4webapi and Chromium (${target.name})`, browserSuite, () => {
    const ui = useBrowser();
    let server: TestServer;
    let user: { id: string; email: string };
    let projectId: string;
    let publicClient: string;
    let confidential: { id: string; secret: string };

    before(async () => {
      server = await startTestServer(target, { TESSERA_DEVICE_CODE_INTERVAL: '5' });
      user = await seedUser(server.ctx, 'grace@example.com');
      projectId = (await seedOrganization(server.ctx, user.id, 'Acme', ['Web', 'Mobile'])).projects[0]!.id;
      const grantTypes = [DEVICE_GRANT, 'refresh_token'] as const;
      publicClient = (await seedClient(server.ctx, { name: 'Hog CLI', isPublic: true, redirectUris: ['http://127.0.0.1/callback'], grantTypes: [...grantTypes] })).client.id;
      const created = await seedClient(server.ctx, { name: 'Hog TV', grantTypes: [...grantTypes] });
      confidential = { id: created.client.id, secret: created.clientSecret! };
    });
    after(() => server?.close());

    it('is listed in discovery', async () => {
      const { as } = await device(server.url, publicClient);
      assert.equal(as.device_authorization_endpoint, `${server.url}/oauth/device_authorization`);
      assert.ok(as.grant_types_supported?.includes(DEVICE_GRANT));
    });

    it('pending → slow_down → the user types the code, signs in, narrows and authorizes → tokens, once', async () => {
      const tv = await device(server.url, publicClient);
      const started = await tv.start('openid email project:read');
      assert.match(started.user_code, USER_CODE);
      assert.equal(started.expires_in, 600);
      assert.equal(started.interval, 5);
      assert.equal(started.verification_uri, `${server.url}/device`);
      assert.equal(started.verification_uri_complete, `${server.url}/device?user_code=${started.user_code}`);
      // Stored hashed: neither code appears in the table.
      const row = await server.db.selectFrom('device_authorizations').selectAll().executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(row).includes(started.device_code) && !JSON.stringify(row).includes(started.user_code.replace('-', '')));

      assert.equal(await tv.poll(started.device_code), 'authorization_pending');
      // Again at once, well inside the interval: slow down, and the interval is now 10 seconds.
      assert.equal(await tv.poll(started.device_code), 'slow_down');
      // 6 s keeps the old interval but not the new one: slow down again, now 15 seconds.
      server.advance(6_000);
      assert.equal(await tv.poll(started.device_code), 'slow_down');
      server.advance(15_000);
      assert.equal(await tv.poll(started.device_code), 'authorization_pending');

      const page = await ui.browser.newPage();
      await page.goto(started.verification_uri);
      await signIn(page, user.email);
      // Case, dashes and spaces do not matter.
      await enterCode(page, ` ${started.user_code.replace('-', '').toLowerCase()} `);
      await page.getByRole('button', { name: 'Authorize' }).waitFor();
      assert.match((await page.textContent('h1')) ?? '', /Hog CLI wants to access/);
      const warning = (await page.getByRole('alert').first().textContent()) ?? '';
      assert.match(warning, /code from another device: Hog CLI on that device will be signed in/);
      assert.doesNotMatch(await page.content(), /You will be sent back to/);
      await page.screenshot({ path: '/tmp/tessera-device-consent.png', fullPage: true });
      await page.getByLabel('Specific projects').check();
      await page.getByLabel('Web').check();
      await page.getByRole('button', { name: 'Authorize' }).click();
      await page.getByRole('heading', { name: 'Device connected' }).waitFor();
      assert.match((await page.getByRole('status').textContent()) ?? '', /Hog CLI is now signed in/);

      server.advance(15_000);
      const tokens = await tv.poll(started.device_code);
      assert.ok(typeof tokens === 'object', `expected tokens, got ${String(tokens)}`);
      assert.match(tokens.access_token, /^pha_/);
      assert.match(tokens.refresh_token!, /^phr_/);
      assert.equal(tokens.scope, 'openid email project:read');
      assert.equal(tokens.access_level, 'project');
      assert.deepEqual(tokens.scoped_projects, [projectId]);
      assert.equal(oauth.getValidatedIdTokenClaims(tokens)?.sub, user.id);
      const me = await fetch(`${server.url}/api/users/@me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(me.status, 403); // user:read was not asked for: the token is real and only as wide as granted
      const projects = await fetch(`${server.url}/api/projects/${projectId}`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(projects.status, 200);

      // The device code is spent; so is the user code. Presented again, it also revokes the tokens
      // it produced (someone else holds it), as a replayed authorization code does.
      server.advance(15_000);
      assert.equal(await tv.poll(started.device_code), 'invalid_grant');
      const afterReplay = await fetch(`${server.url}/api/projects/${projectId}`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(afterReplay.status, 401);
      const refreshed = await fetch(`${server.url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: publicClient }) });
      assert.equal(((await refreshed.json()) as { error: string }).error, 'invalid_grant');
      const replay = await server.db.selectFrom('audit_events').selectAll().where('type', '=', 'device_code.replay_detected').executeTakeFirstOrThrow();
      assert.equal(replay.user_id, user.id);
      assert.equal(replay.client_id, publicClient);
      assert.equal(await tv.poll(started.device_code), 'invalid_grant');
      assert.equal((await server.db.selectFrom('audit_events').select('id').where('type', '=', 'device_code.replay_detected').execute()).length, 1, 'one event: the family was revoked once');
      await page.goto(started.verification_uri_complete!);
      assert.equal(await page.getByLabel('Code').inputValue(), started.user_code);
      await page.getByRole('button', { name: 'Continue' }).click();
      assert.match((await page.getByRole('alert').textContent()) ?? '', /That code is not valid/);
      await page.close();
    });

    it('a confidential client, the complete URI and Deny → access_denied', async () => {
      const tv = await device(server.url, confidential.id, confidential.secret);
      const started = await tv.start('project:read');
      const page = await ui.browser.newPage();
      await page.goto(started.verification_uri_complete!);
      await signIn(page, user.email);
      // The code is filled in; the user still confirms it against the device.
      assert.equal(await page.getByLabel('Code').inputValue(), started.user_code);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('button', { name: 'Deny' }).click();
      await page.getByRole('heading', { name: 'Access denied' }).waitFor();
      await page.close();
      assert.equal(await tv.poll(started.device_code), 'access_denied');
      // Another client cannot redeem it.
      assert.equal(await (await device(server.url, publicClient)).poll(started.device_code), 'invalid_grant');
    });

    it('expires after ten minutes, for the device and at the verification page', async () => {
      const tv = await device(server.url, publicClient);
      const started = await tv.start('project:read');
      server.advance(601_000);
      assert.equal(await tv.poll(started.device_code), 'expired_token');
      const page = await ui.browser.newPage();
      await page.goto(started.verification_uri_complete!);
      await signIn(page, user.email);
      await page.getByRole('button', { name: 'Continue' }).click();
      assert.match((await page.getByRole('alert').textContent()) ?? '', /That code is not valid/);
      await page.close();
    });

    it('is refused to a client not registered for the device grant, at both endpoints', async () => {
      const { client } = await seedClient(server.ctx, { isPublic: true });
      const tv = await device(server.url, client.id);
      await assert.rejects(tv.start('project:read'), (error: oauth.ResponseBodyError) => error.error === 'unauthorized_client');
      assert.equal(await tv.poll('phdc_notarealcode'), 'unauthorized_client');
    });
  });
}

describe('device verification page: wrong codes are limited', browserSuite, () => {
  const ui = useBrowser();
  let server: TestServer;

  before(async () => {
    server = await startTestServer(sqliteTarget, { TESSERA_RATE_LIMITS: 'true', TESSERA_DEVICE_CODE_WRONG_PER_ADDRESS: '3' });
  });
  after(() => server?.close());

  it('refuses further attempts from an address after its wrong codes, the right code included', async () => {
    const user = await seedUser(server.ctx);
    const { client } = await seedClient(server.ctx, { isPublic: true, grantTypes: [DEVICE_GRANT] });
    const started = await (await device(server.url, client.id)).start('project:read');
    const page = await ui.browser.newPage();
    await page.goto(`${server.url}/device`);
    await signIn(page, user.email);
    // A right code does not use the budget up.
    await enterCode(page, started.user_code);
    await page.getByRole('button', { name: 'Authorize' }).waitFor();
    await page.goto(`${server.url}/device`);
    for (const code of ['BBBB-BBBB', 'CCCC-CCCC', 'DDDD-DDDD']) {
      await enterCode(page, code);
      assert.match((await page.getByRole('alert').textContent()) ?? '', /That code is not valid/);
    }
    const refused = page.waitForResponse((response) => response.request().method() === 'POST');
    await enterCode(page, started.user_code);
    const response = await refused;
    assert.equal(response.status(), 429);
    assert.ok(Number(response.headers()['retry-after']) > 0);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /Too many wrong codes/);
    await page.close();
  });
});
