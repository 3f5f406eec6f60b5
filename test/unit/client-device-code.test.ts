/**
 * The client SDK's device authorization grant (RFC 8628) against a small local HTTP server that
 * plays the RFC's responses: the device authorization request, then `authorization_pending`,
 * `slow_down` (+5 s), `access_denied`, `expired_token`, a server error, and success. Waits go
 * through the client's `sleep` on a test clock, so the intervals are asserted exactly without
 * waiting them out; one test polls on real timers. Tessera's own device endpoint comes later:
 * the end-to-end test against it is pending the server side.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { DEVICE_CODE_GRANT_TYPE, MemoryTokenStore, TesseraClient, TesseraError, type DeviceCode } from '../../packages/client/src/index.js';
import { closeServer, listenOnLoopback } from '../support/loopback.js';
import { NOW, testKeys } from '../support/fake-tessera.js';

const CLIENT_ID = 'pca_cli';
type Answer = { status: number; body: Record<string, unknown> } | 'drop';
const pending: Answer = { status: 400, body: { error: 'authorization_pending' } };
const slowDown: Answer = { status: 400, body: { error: 'slow_down' } };
const tokens = (extra: Record<string, unknown> = {}): Answer => ({
  status: 200,
  body: { access_token: 'pha_device', token_type: 'Bearer', expires_in: 3600, refresh_token: 'phr_device', scope: 'user:read', access_level: 'all', scoped_organizations: [], scoped_projects: [], ...extra },
});

/** An authorization server with a device endpoint; token answers are played in order, the last one repeating. */
class DeviceServer {
  url = '';
  device: Record<string, unknown> = {};
  answers: Answer[] = [];
  readonly requests: Array<{ path: string; authorization: string | undefined; form: URLSearchParams }> = [];
  onTokenRequest: () => void = () => undefined;
  private readonly server = createServer((request, response) => void this.handle(request, response));

  async start(): Promise<void> {
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}`;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  reset(device: Record<string, unknown>, answers: Answer[]): void {
    this.device = { device_code: 'dev-code-1', user_code: 'WDJB-MJHT', verification_uri: `${this.url}/device`, expires_in: 600, ...device };
    this.answers = answers;
    this.requests.length = 0;
    this.onTokenRequest = () => undefined;
  }

  tokenRequests() {
    return this.requests.filter((r) => r.path === '/oauth/token');
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => void response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    let raw = '';
    for await (const chunk of request) raw += String(chunk);
    const path = request.url ?? '';
    this.requests.push({ path, authorization: request.headers.authorization, form: new URLSearchParams(raw) });
    if (path === '/.well-known/oauth-authorization-server') {
      return send(200, {
        issuer: this.url,
        authorization_endpoint: `${this.url}/oauth/authorize`,
        token_endpoint: `${this.url}/oauth/token`,
        device_authorization_endpoint: `${this.url}/oauth/device_authorization`,
        jwks_uri: `${this.url}/.well-known/jwks.json`,
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (path === '/.well-known/jwks.json') return send(200, { keys: [(await testKeys())[0]!.publicJwk] });
    if (path === '/oauth/device_authorization') return send(200, this.device);
    if (path === '/oauth/token') {
      this.onTokenRequest();
      const answer = this.answers.length > 1 ? this.answers.shift()! : this.answers[0]!;
      if (answer === 'drop') return void request.socket.destroy();
      return send(answer.status, answer.body);
    }
    send(404, { error: 'not_found' });
  }
}

describe('client SDK: device authorization grant (RFC 8628)', () => {
  const server = new DeviceServer();
  before(() => server.start());
  after(() => server.close());

  /** A client on a test clock: `sleep` records each wait and moves the clock on instead of waiting. */
  async function deviceClient(options: { clientSecret?: string; realTimers?: boolean } = {}) {
    const clock = { now: NOW, waits: [] as number[] };
    const store = new MemoryTokenStore();
    const client = await TesseraClient.discover({
      issuer: server.url,
      clientId: CLIENT_ID,
      clientSecret: options.clientSecret,
      store,
      ...(options.realTimers
        ? {}
        : {
            now: () => clock.now,
            sleep: async (ms: number, signal?: AbortSignal) => {
              signal?.throwIfAborted();
              clock.waits.push(ms);
              clock.now += ms;
            },
          }),
    });
    return { client, store, clock };
  }

  it('shows the code, polls at the interval, waits 5 s longer after slow_down, and stores the tokens', async () => {
    server.reset({ interval: 1, verification_uri_complete: `${server.url}/device?user_code=WDJB-MJHT` }, [pending, slowDown, pending, tokens()]);
    const { client, store, clock } = await deviceClient();
    const shown: DeviceCode[] = [];
    const signedIn = await client.signInWithDeviceCode({ scope: 'user:read', resource: `${server.url}/api`, onCode: (code) => void shown.push(code) });

    assert.deepEqual(shown, [{ userCode: 'WDJB-MJHT', verificationUri: `${server.url}/device`, verificationUriComplete: `${server.url}/device?user_code=WDJB-MJHT`, expiresAt: NOW + 600_000 }]);
    assert.deepEqual(clock.waits, [1000, 1000, 6000, 6000]);
    assert.equal(signedIn.accessToken, 'pha_device');
    assert.deepEqual(await store.get(), signedIn);

    const [authorization] = server.requests.filter((r) => r.path === '/oauth/device_authorization');
    assert.deepEqual(Object.fromEntries(authorization!.form), { scope: 'user:read', resource: `${server.url}/api`, client_id: CLIENT_ID });
    const polls = server.tokenRequests();
    assert.equal(polls.length, 4);
    for (const poll of polls) assert.deepEqual(Object.fromEntries(poll.form), { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: 'dev-code-1', client_id: CLIENT_ID });
  });

  it('polls every 5 s when the server names no interval, and authenticates a confidential client with Basic', async () => {
    server.reset({}, [pending, tokens()]);
    const { client, clock } = await deviceClient({ clientSecret: 'pcs_secret' });
    await client.signInWithDeviceCode({ scope: 'user:read', onCode: () => undefined });
    assert.deepEqual(clock.waits, [5000, 5000]);
    const basic = `Basic ${Buffer.from(`${CLIENT_ID}:pcs_secret`).toString('base64')}`;
    assert.ok(server.requests.filter((r) => r.path.startsWith('/oauth/')).every((r) => r.authorization === basic && r.form.get('client_id') === null));
  });

  it('verifies the ID token of an openid sign-in', async () => {
    const [key] = await testKeys();
    const iat = Math.floor(NOW / 1000);
    const idToken = await new SignJWT({ iss: server.url, sub: 'usr_device', aud: CLIENT_ID, iat, exp: iat + 3600 })
      .setProtectedHeader({ alg: key!.alg, kid: key!.kid })
      .sign(key!.privateKey);
    server.reset({ interval: 1 }, [tokens({ scope: 'openid user:read', id_token: idToken })]);
    const { client } = await deviceClient();
    await client.signInWithDeviceCode({ scope: 'openid user:read', onCode: () => undefined });
    assert.equal((await client.idTokenClaims())!.sub, 'usr_device');
  });

  for (const [error, answers] of [
    ['access_denied', [pending, { status: 400, body: { error: 'access_denied', error_description: 'the user denied the request' } }]],
    ['expired_token', [pending, { status: 400, body: { error: 'expired_token' } }]],
  ] as const) {
    it(`stops at ${error}, storing nothing`, async () => {
      server.reset({ interval: 1 }, [...answers]);
      const { client, store } = await deviceClient();
      await assert.rejects(client.signInWithDeviceCode({ scope: 'user:read', onCode: () => undefined }), (thrown) => thrown instanceof TesseraError && thrown.code === error);
      assert.equal(server.tokenRequests().length, 2);
      assert.equal(await store.get(), undefined);
    });
  }

  it('gives up when the code expires while the user has not approved, without polling past it', async () => {
    server.reset({ interval: 2, expires_in: 7 }, [pending]);
    const { client } = await deviceClient();
    await assert.rejects(client.signInWithDeviceCode({ scope: 'user:read', onCode: () => undefined }), (thrown) => thrown instanceof TesseraError && thrown.code === 'expired_token');
    assert.equal(server.tokenRequests().length, 3, 'polls at 2, 4 and 6 s; the code has expired at 8 s');
  });

  it('backs off after a server error or a dropped connection, then goes on polling', async () => {
    server.reset({ interval: 1 }, [{ status: 503, body: { error: 'temporarily_unavailable' } }, 'drop', pending, tokens()]);
    const { client, clock } = await deviceClient();
    await client.signInWithDeviceCode({ scope: 'user:read', onCode: () => undefined });
    assert.deepEqual(clock.waits, [1000, 2000, 3000, 1000]);
  });

  it('stops when its signal is aborted', async () => {
    server.reset({ interval: 1 }, [pending]);
    const { client } = await deviceClient();
    const controller = new AbortController();
    server.onTokenRequest = () => {
      if (server.tokenRequests().length === 2) controller.abort();
    };
    await assert.rejects(client.signInWithDeviceCode({ scope: 'user:read', onCode: () => undefined, signal: controller.signal }), (thrown: Error) => thrown.name === 'AbortError');
    assert.equal(server.tokenRequests().length, 2);
  });

  it('refuses when the server offers no device authorization endpoint', async () => {
    const client = await TesseraClient.discover({ issuer: server.url, clientId: CLIENT_ID, fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith('/.well-known/oauth-authorization-server')) return response;
      const { device_authorization_endpoint: _, ...metadata } = (await response.json()) as Record<string, unknown>;
      return Response.json(metadata);
    } });
    await assert.rejects(client.signInWithDeviceCode({ scope: 'user:read', onCode: () => assert.fail('no code to show') }), (thrown) => thrown instanceof TesseraError && thrown.code === 'unsupported_grant_type');
  });

  it('polls on real timers by default', async () => {
    server.reset({ interval: 1 }, [pending, tokens()]);
    const { client } = await deviceClient({ realTimers: true });
    const started = performance.now();
    await client.signInWithDeviceCode({ scope: 'user:read', onCode: () => undefined });
    assert.ok(performance.now() - started >= 1950, 'two polls, one interval apart after the first wait');
  });
});
