/**
 * Rate limits over HTTP: per IP address (login, token), per client id whichever address it comes
 * from (token, introspection, authorization), client display lookups per IP, 429 with Retry-After, X-Forwarded-For believed only
 * from a listed proxy, and counters shared by two instances through Redis when TEST_REDIS_URL is set.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { sqliteTarget } from '../support/database.js';
import { basicAuth } from '../support/oauth-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const LIMITED = {
  TESSERA_RATE_LIMITS: 'true',
  // The tests' requests come from 127.0.0.1, which plays the proxy in front (as the front does for
  // a region); 127.0.0.2 plays a browser that talks to the server directly.
  TESSERA_TRUST_PROXY: '127.0.0.1',
  TESSERA_RATE_LIMIT_LOGIN: '3',
  TESSERA_RATE_LIMIT_TOKEN: '3',
  TESSERA_RATE_LIMIT_INTROSPECT: '100',
  TESSERA_RATE_LIMIT_AUTHORIZE: '100',
  TESSERA_RATE_LIMIT_CLIENT_TOKEN: '5',
  TESSERA_RATE_LIMIT_CLIENT_INTROSPECT: '4',
  TESSERA_RATE_LIMIT_CLIENT_AUTHORIZE: '4',
  TESSERA_RATE_LIMIT_CLIENT_DISPLAY: '3',
};

let addressCounter = 0;
/** A fresh documentation-range address (RFC 3849) per call: the server sees a new client IP. */
const freshIp = () => `2001:db8:${randomBytes(2).toString('hex')}::${(++addressCounter).toString(16)}`;

function post(server: TestServer, path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
}

/** A POST from another loopback address: a client that reaches the server without the proxy. */
function postFrom(localAddress: string, server: TestServer, path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  const url = new URL(path, server.url);
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: incoming.statusCode!, headers: incoming.headers as Record<string, string> })));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

async function assertLimited(response: Response): Promise<void> {
  assert.equal(response.status, 429);
  const retryAfter = Number(response.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${response.headers.get('retry-after')}`);
  assert.equal(((await response.json()) as { error: string }).error, 'too_many_requests');
}

describe('rate limits on one instance', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(sqliteTarget, LIMITED);
  });
  after(() => server.close());

  it('limits sign-in attempts per IP address with 429 and Retry-After', async () => {
    const ip = freshIp();
    for (let i = 0; i < 3; i++) {
      const response = await post(server, '/login', { email: 'a@example.com', password: 'wrong password' }, { 'x-forwarded-for': ip });
      assert.notEqual(response.status, 429, `attempt ${i + 1}`);
    }
    await assertLimited(await post(server, '/login', { email: 'a@example.com', password: 'wrong password' }, { 'x-forwarded-for': ip }));
    // Another address is not affected.
    const other = await post(server, '/login', { email: 'a@example.com', password: 'wrong password' }, { 'x-forwarded-for': freshIp() });
    assert.notEqual(other.status, 429);
  });

  it('ignores X-Forwarded-For from a peer that is not a listed proxy, so a direct client cannot escape the per-IP limits', async () => {
    const login = (headers: Record<string, string>) => postFrom('127.0.0.2', server, '/login', { email: 'a@example.com', password: 'wrong password' }, headers);
    for (let i = 0; i < 3; i++) assert.notEqual((await login({ 'x-forwarded-for': freshIp() })).status, 429, `attempt ${i + 1}`);
    await assertLimited(await login({ 'x-forwarded-for': freshIp() }));
    await assertLimited(await login({}));
    // The same spoofing cannot spend a client's per-client budget either: its address runs out first.
    const clientId = `pca_spoofed_${randomBytes(4).toString('hex')}`;
    const spoofed = () => postFrom('127.0.0.2', server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId }, { 'x-forwarded-for': freshIp() });
    for (let i = 0; i < 3; i++) assert.equal((await spoofed()).status, 401);
    for (let i = 0; i < 5; i++) await assertLimited(await spoofed());
    const fromUser = await post(server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId }, { 'x-forwarded-for': freshIp() });
    assert.equal(fromUser.status, 401, 'the client\'s real users, behind the proxy, are not held back');
    // The listed proxy's header is believed: the address it names is a client of its own.
    assert.notEqual((await post(server, '/login', { email: 'a@example.com', password: 'wrong password' }, { 'x-forwarded-for': freshIp() })).status, 429);
  });

  it('limits token requests per IP address, whichever client they name', async () => {
    const ip = freshIp();
    for (let i = 0; i < 3; i++) {
      const response = await post(server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: `pca_ip_${i}` }, { 'x-forwarded-for': ip });
      assert.equal(response.status, 401);
    }
    await assertLimited(await post(server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'pca_ip_other' }, { 'x-forwarded-for': ip }));
  });

  it('limits token requests per client id across addresses, from the body or Basic auth', async () => {
    const clientId = `pca_spread_${randomBytes(4).toString('hex')}`;
    for (let i = 0; i < 3; i++) {
      const response = await post(server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId }, { 'x-forwarded-for': freshIp() });
      assert.equal(response.status, 401);
    }
    for (let i = 0; i < 2; i++) {
      const response = await post(server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x' }, { 'x-forwarded-for': freshIp(), authorization: basicAuth(clientId, 'pcs_wrong') });
      assert.equal(response.status, 401);
    }
    await assertLimited(await post(server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId }, { 'x-forwarded-for': freshIp() }));
    await assertLimited(await post(server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x' }, { 'x-forwarded-for': freshIp(), authorization: basicAuth(clientId, 'pcs_wrong') }));
    // Another client from a fresh address still gets through.
    const other = await post(server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: `${clientId}_other` }, { 'x-forwarded-for': freshIp() });
    assert.equal(other.status, 401);
  });

  it('limits introspection and authorization requests per client id', async () => {
    const clientId = `pca_spread_${randomBytes(4).toString('hex')}`;
    for (let i = 0; i < 4; i++) {
      const response = await post(server, '/oauth/introspect', { token: 'x' }, { 'x-forwarded-for': freshIp(), authorization: basicAuth(clientId, 'pcs_wrong') });
      assert.equal(response.status, 401);
    }
    await assertLimited(await post(server, '/oauth/introspect', { token: 'x' }, { 'x-forwarded-for': freshIp(), authorization: basicAuth(clientId, 'pcs_wrong') }));

    const authorize = () => fetch(`${server.url}/oauth/authorize?client_id=${clientId}&response_type=code`, { headers: { 'x-forwarded-for': freshIp() }, redirect: 'manual' });
    for (let i = 0; i < 4; i++) assert.equal((await authorize()).status, 400);
    await assertLimited(await authorize());
  });

  it('limits client display lookups per IP address', async () => {
    const ip = freshIp();
    const lookup = (from: string) => fetch(`${server.url}/oauth/client_display?client_id=pca_unknown`, { headers: { 'x-forwarded-for': from } });
    for (let i = 0; i < 3; i++) assert.equal((await lookup(ip)).status, 404);
    await assertLimited(await lookup(ip));
    assert.equal((await lookup(freshIp())).status, 404);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) process.stderr.write('note: TEST_REDIS_URL is not set; the shared rate limit test across two instances is skipped\n');

describe('rate limits shared through Redis by two instances', { skip: redisUrl ? false : 'TEST_REDIS_URL is not set' }, () => {
  let first: TestServer;
  let second: TestServer;
  before(async () => {
    // A key prefix of this run's own, so runs and other tests sharing the Redis never collide.
    const env = { ...LIMITED, REDIS_URL: redisUrl!, TESSERA_REDIS_PREFIX: `tessera-test-${randomBytes(6).toString('hex')}:` };
    first = await startTestServer(sqliteTarget, env);
    second = await startTestServer(sqliteTarget, env);
  });
  after(async () => {
    await first?.close();
    await second?.close();
  });

  it('counts an address across both instances', async () => {
    const ip = freshIp();
    const attempt = (server: TestServer) => post(server, '/login', { email: 'a@example.com', password: 'wrong password' }, { 'x-forwarded-for': ip });
    for (const server of [first, second, first]) assert.notEqual((await attempt(server)).status, 429);
    await assertLimited(await attempt(second));
    await assertLimited(await attempt(first));
  });

  it('counts a client id across both instances', async () => {
    const clientId = `pca_shared_${randomBytes(4).toString('hex')}`;
    const attempt = (server: TestServer) => post(server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId }, { 'x-forwarded-for': freshIp() });
    for (const server of [first, second, first, second, first]) assert.equal((await attempt(server)).status, 401);
    await assertLimited(await attempt(second));
  });
});
