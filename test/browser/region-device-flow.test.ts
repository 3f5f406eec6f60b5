/**
 * The device authorization grant behind the region-agnostic front: a device that knows only the
 * front (oauth4webapi's device-flow functions) asks it for a code; the front relays the request to
 * the region that knows the client, whose own /device page the user completes in Chromium, signed
 * in to that region; the device's polls, the refresh and a replayed device code go through the
 * front to the same region.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { browserSuite, useBrowser } from '../support/browser.js';
import { device, DEVICE_GRANT, signIn } from '../support/device.js';
import { startRegions, type Regions } from '../support/regions.js';
import { seedClient, seedUser } from '../support/seed.js';

describe('device sign-in through the region-agnostic front, in Chromium', browserSuite, () => {
  const ui = useBrowser();
  let regions: Regions;

  before(async () => {
    regions = await startRegions();
  });
  after(async () => {
    await regions?.close();
  });

  /** A device-only public client registered in one region: no redirect URI. */
  async function deviceClient(region: Regions['eu'], name: string): Promise<string> {
    return (await seedClient(region.ctx, { name, isPublic: true, redirectUris: [], grantTypes: [DEVICE_GRANT, 'refresh_token'] })).client.id;
  }

  it('the front lists the device authorization endpoint at itself', async () => {
    const { as } = await device(regions.frontUrl, await deviceClient(regions.eu, 'Listed'));
    assert.equal(as.device_authorization_endpoint, `${regions.frontUrl}/oauth/device_authorization`);
    assert.equal(as.token_endpoint, `${regions.frontUrl}/oauth/token`);
  });

  it('signs an EU user in: the code comes from the EU region, which the user completes at its own /device', async () => {
    const { eu, frontUrl } = regions;
    const user = await seedUser(eu.ctx);
    const clientId = await deviceClient(eu, 'Hog TV');
    const tv = await device(frontUrl, clientId);

    // The US region, asked first, does not know the client; the EU region issues the code.
    const started = await tv.start('openid project:read');
    assert.equal(started.verification_uri, `${eu.url}/device`);
    assert.equal(started.verification_uri_complete, `${eu.url}/device?user_code=${started.user_code}`);
    assert.equal(await tv.poll(started.device_code), 'authorization_pending');

    const context = await ui.browser.newContext();
    const page = await context.newPage();
    await page.goto(started.verification_uri_complete!);
    await signIn(page, user.email);
    assert.equal(new URL(page.url()).origin, eu.url);
    assert.equal(await page.getByLabel('Code').inputValue(), started.user_code);
    await page.getByRole('button', { name: 'Continue' }).click();
    assert.match((await page.textContent('h1')) ?? '', /Hog TV wants to access/);
    await page.getByRole('button', { name: 'Authorize' }).click();
    await page.getByRole('heading', { name: 'Device connected' }).waitFor();
    await context.close();

    const tokens = await tv.poll(started.device_code);
    assert.ok(typeof tokens === 'object', `expected tokens, got ${String(tokens)}`);
    assert.equal(tokens.region, 'eu');
    assert.equal(tokens.base_url, eu.url);
    assert.match(tokens.refresh_token!, /^phr_/);
    const me = await fetch(`${frontUrl}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(((await me.json()) as { sub: string }).sub, user.id);

    // Refreshed through the front, in the EU region.
    const refreshed = await fetch(`${frontUrl}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: clientId }) });
    assert.equal(refreshed.status, 200);

    // Presented again through the front: invalid_grant, and the EU region revokes what it issued.
    assert.equal(await tv.poll(started.device_code), 'invalid_grant');
    assert.equal((await fetch(`${frontUrl}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status, 401);
    const events = await eu.db.selectFrom('audit_events').select('type').where('type', '=', 'device_code.replay_detected').execute();
    assert.equal(events.length, 1);
  });

  it('routes by the client: a US client’s code comes from the US region; an unknown client is invalid_client', async () => {
    const { us, frontUrl } = regions;
    const started = await (await device(frontUrl, await deviceClient(us, 'Hog Radio'))).start('project:read');
    assert.equal(started.verification_uri, `${us.url}/device`);
    const unknown = await fetch(`${frontUrl}/oauth/device_authorization`, { method: 'POST', body: new URLSearchParams({ client_id: 'pca_nobody', scope: 'project:read' }) });
    assert.equal(unknown.status, 401);
    assert.equal(((await unknown.json()) as { error: string }).error, 'invalid_client');
  });
});
