/**
 * The client package against a real Tessera: signInWithBrowser on an ephemeral loopback port (a
 * cookie-keeping user agent plays the browser: it follows the URL, signs in, consents and lands on
 * the loopback page), its time limit and abort; ID tokens (RS256 and ES256) verified at sign-in
 * and again after a refresh; and, behind the region-agnostic front, platform API calls that follow
 * the region's base_url. On SQLite: this is client behaviour, and storage is covered elsewhere.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignInTimeoutError, TesseraClient, TesseraError, type TesseraClientOptions } from '../../packages/client/src/index.js';
import { signInWithBrowser } from '../../packages/client/src/node.js';
import { sqliteTarget } from '../support/database.js';
import { startRegions, type Regions } from '../support/regions.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent, type ConsentChoice } from '../support/user-agent.js';

const LOOPBACK = 'http://127.0.0.1/callback';
const SCOPES = 'openid email user:read organization:read';

/** Resolves true when something accepts connections on the port. */
function listening(port: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.once('connect', () => resolve(!socket.destroy()));
    socket.once('error', () => resolve(false));
  });
}

/**
 * A browser for `open`: follows the authorization URL through sign-in and consent to the loopback
 * page. `landed()` waits for the page, which may finish loading after the sign-in has returned.
 */
function browser(agent: UserAgent, choice: ConsentChoice = {}) {
  let visit: Promise<{ authorizationUrl: URL; landing: Response; page: string }> | undefined;
  return {
    open(url: string): Promise<void> {
      visit = (async () => {
        const landing = await fetch(await agent.authorize(url, choice));
        return { authorizationUrl: new URL(url), landing, page: await landing.text() };
      })();
      return visit.then(() => undefined);
    },
    landed: () => visit!,
  };
}

describe('client package: signInWithBrowser and ID tokens against Tessera', () => {
  let server: TestServer;
  let agent: UserAgent;
  let user: { id: string; email: string };
  let rs256Client: string;
  let es256Client: string;

  before(async () => {
    server = await startTestServer(sqliteTarget);
    user = await seedUser(server.ctx);
    rs256Client = (await seedClient(server.ctx, { isPublic: true, redirectUris: [LOOPBACK] })).client.id;
    es256Client = (await seedClient(server.ctx, { isPublic: true, redirectUris: [LOOPBACK], idTokenSignedResponseAlg: 'ES256' })).client.id;
    agent = new UserAgent(server.url);
    await agent.signIn(user.email, PASSWORD);
  });
  after(() => server.close());

  const discover = (clientId: string, options: Partial<TesseraClientOptions> = {}) => TesseraClient.discover({ issuer: server.url, clientId, redirectUri: LOOPBACK, ...options });

  it('signs in through an ephemeral loopback port and tells the user to close the tab', async () => {
    const client = await discover(rs256Client);
    const { open, landed } = browser(agent);
    const tokens = await signInWithBrowser(client, { scope: SCOPES, params: { prompt: 'consent' }, open });
    const seen = await landed();

    const redirectUri = new URL(seen.authorizationUrl.searchParams.get('redirect_uri')!);
    assert.equal(redirectUri.hostname, '127.0.0.1');
    assert.equal(redirectUri.pathname, '/callback');
    assert.match(redirectUri.port, /^\d+$/);
    assert.equal(seen.landing.status, 200);
    assert.match(seen.landing.headers.get('content-type')!, /^text\/html/);
    assert.equal(seen.landing.headers.get('referrer-policy'), 'no-referrer');
    assert.match(seen.page, /You can close this tab/);
    assert.equal(await listening(redirectUri.port), false, 'the listener is closed');

    assert.match(tokens.accessToken, /^pha_/);
    assert.equal(tokens.idTokenClaims!.sub, user.id);
    assert.equal(tokens.idTokenClaims!.email, user.email);
    const me = await client.fetchApi('/api/users/@me');
    assert.equal(((await me.json()) as { id: string }).id, user.id);
  });

  it('answers 404 to requests without its state and goes on waiting', async () => {
    const client = await discover(rs256Client);
    const real = browser(agent);
    const strays: number[] = [];
    const tokens = await signInWithBrowser(client, {
      scope: SCOPES,
      async open(url) {
        const redirectUri = new URL(new URL(url).searchParams.get('redirect_uri')!);
        for (const path of ['/callback?code=phac_forged&state=forged', '/favicon.ico', '/callback']) strays.push((await fetch(new URL(path, redirectUri))).status);
        await real.open(url);
      },
    });
    assert.deepEqual(strays, [404, 404, 404]);
    assert.equal(tokens.idTokenClaims!.sub, user.id);
  });

  it('ends with access_denied when the user declines, and says so on the page', async () => {
    const client = await discover(rs256Client);
    const { open, landed } = browser(agent, { decision: 'deny' });
    await assert.rejects(signInWithBrowser(client, { scope: SCOPES, params: { prompt: 'consent' }, open }), (error) => error instanceof TesseraError && error.code === 'access_denied');
    const seen = await landed();
    assert.equal(seen.landing.status, 400);
    assert.match(seen.page, /did not complete \(access_denied\)/);
    assert.equal(await client.store.get(), undefined);
  });

  it('gives up after its time limit, or when aborted, and closes the listener', async () => {
    const client = await discover(rs256Client);
    let port = '';
    const remember = (url: string) => void (port = new URL(new URL(url).searchParams.get('redirect_uri')!).port);
    await assert.rejects(signInWithBrowser(client, { scope: SCOPES, open: remember, timeoutMs: 300 }), (error) => error instanceof SignInTimeoutError && error.code === 'timeout' && error.message.includes(`127.0.0.1:${port}/callback within 300 ms`));
    assert.equal(await listening(port), false);

    // The time limit holds even when `open` never returns.
    await assert.rejects(signInWithBrowser(client, { scope: SCOPES, open: (url) => (remember(url), new Promise<void>(() => undefined)), timeoutMs: 300 }), SignInTimeoutError);
    assert.equal(await listening(port), false);

    const controller = new AbortController();
    await assert.rejects(
      signInWithBrowser(client, { scope: SCOPES, signal: controller.signal, open: (url) => (remember(url), controller.abort()) }),
      (error: Error) => error.name === 'AbortError',
    );
    assert.equal(await listening(port), false);
  });

  it('refuses a redirect URI that is not loopback', async () => {
    const client = await discover(rs256Client, { redirectUri: 'https://app.example/callback' });
    await assert.rejects(signInWithBrowser(client, { scope: SCOPES, open: () => assert.fail('nothing to open') }), TypeError);
  });

  it('verifies an ES256 ID token, and the one a refresh brings, naming the same user', async () => {
    const client = await discover(es256Client, { now: () => server.ctx.now() });
    const tokens = await signInWithBrowser(client, { scope: SCOPES, open: browser(agent).open });
    assert.equal(JSON.parse(Buffer.from(tokens.idToken!.split('.')[0]!, 'base64url').toString()).alg, 'ES256');

    server.advance(55 * 60_000);
    assert.equal((await client.fetchApi('/api/users/@me')).status, 200);
    const refreshed = (await client.store.get())!;
    assert.notEqual(refreshed.refreshToken, tokens.refreshToken);
    assert.notEqual(refreshed.idToken, tokens.idToken, 'the refresh brought a new ID token');
    assert.equal(refreshed.idTokenClaims!.sub, user.id);
    assert.equal(refreshed.idTokenClaims!.auth_time, tokens.idTokenClaims!.auth_time);
  });
});

describe('client package: regions behind the front', () => {
  let regions: Regions;
  before(async () => {
    regions = await startRegions();
  });
  after(() => regions.close());

  it('calls the platform API at the base_url of the user\'s region, and verifies the region-signed ID token', async () => {
    const { eu, frontUrl } = regions;
    const user = await seedUser(eu.ctx);
    const clientId = (await seedClient(eu.ctx, { isPublic: true, redirectUris: [LOOPBACK] })).client.id;
    const requested: string[] = [];
    const client = await TesseraClient.discover({
      issuer: frontUrl,
      clientId,
      redirectUri: LOOPBACK,
      fetch: (input, init) => {
        requested.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      },
    });
    const tokens = await signInWithBrowser(client, {
      scope: SCOPES,
      async open(url) {
        // The front shows the region picker; the user picks EU and signs in there.
        const picker = await new UserAgent(frontUrl).request(url);
        const link = /href="([^"]+)" data-region="eu"/.exec(await picker.text())![1]!.replace(/&amp;/g, '&');
        const chosen = await new UserAgent(frontUrl).request(link);
        const inRegion = new UserAgent(eu.url);
        await inRegion.signIn(user.email, PASSWORD);
        await fetch(await inRegion.authorize(chosen.headers.get('location')!));
      },
    });
    assert.equal(tokens.baseUrl, eu.url);
    assert.equal(tokens.idTokenClaims!.iss, frontUrl);
    assert.equal(tokens.idTokenClaims!.sub, user.id);

    const me = await client.fetchApi('/api/users/@me');
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { id: string }).id, user.id);
    assert.equal(requested.at(-1), `${eu.url}/api/users/@me`);
    assert.ok(requested.filter((url) => url.includes('/oauth/')).every((url) => url.startsWith(frontUrl)), 'the protocol goes through the front');
  });
});
