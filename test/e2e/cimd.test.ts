/**
 * Client ID Metadata Documents end to end: a real HTTPS server on loopback serves the documents
 * (trusted through TESSERA_CIMD_CA_FILE, reachable through TESSERA_CIMD_ALLOW_LOOPBACK), and a real
 * Tessera fetches, validates, caches and blocks them — on every storage target.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../packages/server/src/config.js';
import { platformScopes } from '../../packages/server/src/platform/scopes.js';
import { isBlocked } from '../../packages/server/src/core/clients/cimd/blocklist.js';
import { storeDocument } from '../../packages/server/src/core/clients/cimd/cache.js';
import { createCimdResolver } from '../../packages/server/src/core/clients/cimd/resolver.js';
import { createClientResolver } from '../../packages/server/src/core/clients/resolver.js';
import { OAuthError } from '../../packages/server/src/core/oauth/errors.js';
import { s256 } from '../../packages/server/src/core/oauth/pkce.js';
import { tesseraCli } from '../support/cli.js';
import { storageTargets } from '../support/database.js';
import { DocumentServer } from '../support/document-server.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://127.0.0.1:7777/callback';

function authorizeUrl(clientId: string, redirectUri = REDIRECT): string {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: 'project:read',
    state: 'xyz',
    code_challenge: s256('v'.repeat(50)),
    code_challenge_method: 'S256',
  });
  return `/oauth/authorize?${params}`;
}

/** The client is accepted (signed out: sent to login) or refused (an error page, never a redirect to the client). */
async function resolvesAt(server: TestServer, clientId: string): Promise<boolean> {
  const response = await fetch(server.url + authorizeUrl(clientId), { redirect: 'manual' });
  if (response.status === 302) {
    assert.equal(new URL(response.headers.get('location')!, server.url).pathname, '/login');
    return true;
  }
  assert.equal(response.status, 400, `authorize answered ${response.status}`);
  assert.equal(response.headers.get('location'), null);
  assert.match(await response.text(), /not known to us/);
  return false;
}

/** A resolver on the server's database with other settings (a second server per storage target would need a second database). */
function resolverWith(server: TestServer, settings: Partial<Config>) {
  const config = { ...server.config, ...settings };
  return createClientResolver(server.ctx.store, createCimdResolver({ store: server.ctx.store, config, scopes: platformScopes, metrics: server.ctx.metrics, now: () => server.ctx.now() }));
}

async function tokenEndpointError(server: TestServer, clientId: string): Promise<string> {
  const response = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'phr_x', client_id: clientId }),
  });
  return ((await response.json()) as { error: string }).error;
}

async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const target of storageTargets()) {
  describe(`Client ID Metadata Documents (${target.name})`, () => {
    const docs = new DocumentServer({ client_name: 'Notebook Sync', redirect_uris: [REDIRECT] });
    let server: TestServer;
    let email: string;

    before(async () => {
      await docs.start();
      server = await startTestServer(target, { TESSERA_CIMD_ALLOW_LOOPBACK: 'true', TESSERA_CIMD_CA_FILE: docs.caFile });
      email = (await seedUser(server.ctx)).email;
    });
    after(async () => {
      await server.close();
      await docs.close();
    });

    it('announces support in discovery', async () => {
      const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.equal(metadata.client_id_metadata_document_supported, true);
    });

    it('runs the code flow with a URL as client id, also for a token request with a placeholder secret', async () => {
      const clientId = docs.serve('/flow/client.json', { logo_uri: 'https://localhost/logo.png' });
      const app = await TestOAuthClient.discover(server.url, { clientId, redirectUri: REDIRECT });
      const agent = new UserAgent(server.url);
      await agent.signIn(email, PASSWORD);

      const { url, codeVerifier, state } = await app.authorizationUrl('project:read annotation:write');
      const consent = await (await agent.request(url.href)).text();
      assert.match(consent, /Notebook Sync wants to access/);
      assert.match(consent, new RegExp(`Unverified</span> Registered itself from <strong class="host">localhost:${docs.port}</strong>`));
      assert.match(consent, /only redirects to your own computer/);
      assert.doesNotMatch(consent, /badge verified/);

      const tokens = await app.exchange(await agent.authorize(url.href), codeVerifier, state);
      assert.match(tokens.access_token, /^pha_/);
      assert.equal(tokens.scope, 'project:read annotation:write');
      const refreshed = await app.refresh(tokens.refresh_token!);
      assert.equal((await app.introspect(refreshed.access_token)).client_id, clientId);

      // Integration platforms send a client_secret whatever the client is; a public client's is ignored.
      const second = await app.authorizationUrl('project:read');
      const callback = await agent.authorize(second.url.href);
      const response = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: callback.searchParams.get('code')!,
          redirect_uri: REDIRECT,
          code_verifier: second.codeVerifier,
          client_id: clientId,
          client_secret: 'placeholder',
        }),
      });
      assert.equal(response.status, 200);
      assert.match(((await response.json()) as { access_token: string }).access_token, /^pha_/);
      assert.equal(docs.count('/flow/client.json'), 1, 'fetched once, then served from the cache');
    });

    it('holds the client to the scope its document lists', async () => {
      const clientId = docs.serve('/ceiling/client.json', { scope: 'project:read files:write' });
      const app = await TestOAuthClient.discover(server.url, { clientId, redirectUri: REDIRECT });
      const agent = new UserAgent(server.url);
      await agent.signIn(email, PASSWORD);
      const within = await app.authorizationUrl('project:read');
      assert.match(await (await agent.request(within.url.href)).text(), /Notebook Sync wants to access/);
      const beyond = await app.authorizationUrl('project:read annotation:write');
      const refused = await agent.request(beyond.url.href);
      const location = new URL(refused.headers.get('location')!);
      assert.equal(location.searchParams.get('error'), 'invalid_scope');
      assert.match(location.searchParams.get('error_description')!, /annotation:write/);
    });

    it('shows a page for a redirect URI the document does not list', async () => {
      const clientId = docs.serve('/redirects/client.json');
      const response = await fetch(server.url + authorizeUrl(clientId, 'http://127.0.0.1:7777/elsewhere'), { redirect: 'manual' });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('location'), null);
    });

    it('refuses a loopback host unless configured to allow it', async () => {
      const clientId = docs.serve('/loopback/client.json');
      const strict = resolverWith(server, { cimdAllowLoopback: false });
      assert.equal(await strict.resolve(clientId), undefined);
      assert.equal(await strict.resolve(clientId.replace('localhost', '127.0.0.1')), undefined);
      assert.equal(docs.count('/loopback/client.json'), 0, 'nothing was fetched');
      assert.equal(await resolvesAt(server, clientId), true);
    });

    it('verifies the certificate against the host name', async () => {
      const clientId = docs.serve('/tls/client.json');
      assert.equal(await resolverWith(server, { cimdCaFile: undefined }).resolve(clientId), undefined, 'an untrusted certificate');
      assert.equal(docs.count('/tls/client.json'), 0, 'no request was sent over the untrusted connection');
      assert.equal(await resolvesAt(server, clientId), true);
    });

    it('refuses a redirect, any status but 200, a wrong client_id and a body that is not a valid document', async () => {
      const target200 = docs.serve('/status/target.json');
      docs.routes.set('/status/redirect.json', (_request, response) => response.writeHead(302, { location: target200 }).end());
      for (const status of [201, 204, 301, 304, 404, 500]) {
        docs.routes.set(`/status/${status}.json`, (_request, response) => response.writeHead(status, { location: target200 }).end());
      }
      docs.serve('/status/mismatch.json', { client_id: docs.url('/status/other.json') });
      docs.routes.set('/status/not-json.json', (_request, response) => response.writeHead(200).end('<html>'));
      docs.serve('/status/secret.json', { token_endpoint_auth_method: 'client_secret_basic', client_secret: 's3cret' });

      for (const path of ['/status/redirect.json', '/status/201.json', '/status/204.json', '/status/301.json', '/status/304.json', '/status/404.json', '/status/500.json', '/status/mismatch.json', '/status/not-json.json', '/status/secret.json']) {
        assert.equal(await resolvesAt(server, docs.url(path)), false, path);
      }
      assert.equal(docs.count('/status/target.json'), 0, 'the redirect was not followed');
    });

    it('refuses a body over 5 KB, whether or not its length is announced', async () => {
      const padding = (size: number) => 'x'.repeat(size);
      docs.serve('/size/within.json', { padding: padding(4500) });
      docs.serve('/size/declared.json', { padding: padding(6000) });
      docs.routes.set('/size/chunked.json', (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write(`{"client_id":"${docs.url('/size/chunked.json')}","client_name":"Big","redirect_uris":["${REDIRECT}"],"padding":"`);
        const timer = setInterval(() => response.write(padding(1000)), 5);
        response.on('close', () => clearInterval(timer));
      });
      assert.equal(await resolvesAt(server, docs.url('/size/within.json')), true);
      assert.equal(await resolvesAt(server, docs.url('/size/declared.json')), false);
      assert.equal(await resolvesAt(server, docs.url('/size/chunked.json')), false);
    });

    it('gives up on a document that arrives too slowly', async () => {
      docs.routes.set('/slow/client.json', (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"client_id":'); // and nothing more
      });
      const started = Date.now();
      assert.equal(await resolvesAt(server, docs.url('/slow/client.json')), false);
      assert.ok(Date.now() - started < 6000, 'the deadline is a few seconds');
    });

    it('caches a document for its clamped max-age and serves a stale one while refreshing it', async () => {
      const lifetimes: Array<[string, Record<string, string>, number]> = [
        ['/cache/short.json', { 'cache-control': 'max-age=1' }, 300],
        ['/cache/long.json', { 'cache-control': 'public, max-age=999999' }, 86400],
        ['/cache/none.json', {}, 3600],
        ['/cache/no-store.json', { 'cache-control': 'no-store' }, 300],
      ];
      for (const [path, headers, seconds] of lifetimes) {
        const clientId = docs.serve(path, {}, headers);
        assert.equal(await resolvesAt(server, clientId), true);
        const row = await server.db.selectFrom('cimd_documents').selectAll().where('client_id', '=', clientId).executeTakeFirstOrThrow();
        assert.equal(row.expires_at - row.fetched_at, seconds * 1000, path);
        assert.equal((JSON.parse(row.document) as { client_id: string }).client_id, clientId);
      }

      const clientId = docs.url('/cache/short.json');
      assert.equal(await resolvesAt(server, clientId), true);
      assert.equal(docs.count('/cache/short.json'), 1, 'a fresh document is not fetched again');

      server.advance(301_000);
      assert.equal(await resolvesAt(server, clientId), true, 'a stale document is still served');
      await until(() => docs.count('/cache/short.json') === 2, 'the background refresh');

      // The refresh fails: the stale document is served once more, then dropped, never kept as a failure.
      docs.routes.delete('/cache/short.json');
      server.advance(301_000);
      assert.equal(await resolvesAt(server, clientId), true);
      await until(async () => !(await server.db.selectFrom('cimd_documents').select('client_id').where('client_id', '=', clientId).executeTakeFirst()), 'the stale document to be dropped');
      assert.equal(await resolvesAt(server, clientId), false);
    });

    it('fetches a new document once for concurrent first requests', async () => {
      const document = { client_id: docs.url('/flight/client.json'), client_name: 'Concurrent', redirect_uris: [REDIRECT] };
      docs.routes.set('/flight/client.json', (_request, response) => {
        setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document)), 300);
      });
      const results = await Promise.all(Array.from({ length: 8 }, () => resolvesAt(server, document.client_id)));
      assert.deepEqual(results, Array(8).fill(true));
      assert.equal(docs.count('/flight/client.json'), 1);
    });

    it('does not cache a failure', async () => {
      const clientId = docs.url('/flaky/client.json');
      docs.routes.set('/flaky/client.json', (_request, response) => response.writeHead(503).end());
      assert.equal(await resolvesAt(server, clientId), false);
      docs.serve('/flaky/client.json');
      assert.equal(await resolvesAt(server, clientId), true);
      assert.equal(docs.count('/flaky/client.json'), 2);
    });

    it('refuses a blocked client id URL or domain, cached or not, with invalid_client and never a redirect', async () => {
      const clientId = docs.serve('/blocked/client.json');
      const other = docs.serve('/blocked/other.json');
      assert.equal(await resolvesAt(server, clientId), true);

      await server.ctx.store.cimd.block(clientId, 'phishing', server.ctx.now());
      assert.equal(await resolvesAt(server, clientId), false);
      assert.equal(await tokenEndpointError(server, clientId), 'invalid_client');
      assert.equal(await resolvesAt(server, other), true, 'an exact URL blocks only itself');
      assert.equal(await server.ctx.store.cimd.unblock(clientId), true);
      assert.equal(await resolvesAt(server, clientId), true);

      await server.ctx.store.cimd.block('localhost', null, server.ctx.now());
      assert.equal(await resolvesAt(server, clientId), false);
      assert.equal(await resolvesAt(server, other), false);
      assert.equal(await resolvesAt(server, docs.serve('/blocked/never-fetched.json')), false);
      assert.equal(docs.count('/blocked/never-fetched.json'), 0);
      await server.ctx.store.cimd.unblock('localhost');

      await server.ctx.store.cimd.block('example.com', null, server.ctx.now());
      assert.equal(await isBlocked(server.ctx.store, new URL('https://example.com/c')), true);
      assert.equal(await isBlocked(server.ctx.store, new URL('https://a.b.example.com/c')), true);
      assert.equal(await isBlocked(server.ctx.store, new URL('https://notexample.com/c')), false);
      assert.equal(await isBlocked(server.ctx.store, new URL('https://example.com.evil.net/c')), false);
    });

    it('refuses a host with a trailing dot, so it cannot get round the blocklist', async () => {
      // The same host spelled with a trailing dot, and a document that names that spelling as its
      // client_id. Where public DNS resolves the dotted name it is fetched like any other; this
      // machine's resolver does not, so the document is put in the cache as that fetch would have.
      const clientId = docs.serve('/dotted/client.json');
      const dotted = `https://localhost.:${docs.port}/dotted/client.json`;
      docs.serve('/dotted/client.json', { client_id: dotted });
      await storeDocument(server.ctx.store, dotted, { client_id: dotted, client_name: 'Notebook Sync', redirect_uris: [REDIRECT] }, server.ctx.now(), 3600);

      await server.ctx.store.cimd.block('localhost', 'phishing', server.ctx.now());
      assert.equal(await resolvesAt(server, dotted), false, 'a blocked domain, with a trailing dot');
      assert.equal(await tokenEndpointError(server, dotted), 'invalid_client');
      assert.equal(await isBlocked(server.ctx.store, new URL(dotted)), true, 'matching normalises the host first');
      await server.ctx.store.cimd.unblock('localhost');
      await server.ctx.store.cimd.block(clientId, null, server.ctx.now());
      assert.equal(await isBlocked(server.ctx.store, new URL(dotted)), true, 'an exact URL blocks its trailing-dot spelling too');
      await server.ctx.store.cimd.unblock(clientId);

      assert.equal(await resolvesAt(server, dotted), false, 'not canonical, blocked or not');
      assert.equal(docs.count('/dotted/client.json'), 0, 'never fetched');
    });

    it('limits first fetches per IP and globally, and serves cached documents beyond the limit', async () => {
      const limited = resolverWith(server, { rateLimits: { ...server.config.rateLimits, enabled: true, cimd: 2 } });
      const clientIds = Array.from({ length: 23 }, (_, index) => docs.serve(`/limit/${index}.json`));
      const tooMany = (error: unknown) => error instanceof OAuthError && error.code === 'temporarily_unavailable';
      assert.ok(await limited.resolve(clientIds[0]!, { ip: '203.0.113.1' }));
      assert.ok(await limited.resolve(clientIds[1]!, { ip: '203.0.113.1' }));
      await assert.rejects(limited.resolve(clientIds[2]!, { ip: '203.0.113.1' }), tooMany);
      assert.equal(docs.count('/limit/2.json'), 0);
      assert.ok(await limited.resolve(clientIds[0]!, { ip: '203.0.113.1' }), 'a cached document needs no fetch');
      // The global limit is ten times the per-IP one: 20 first fetches in all, whatever the IPs.
      for (let index = 2; index < 20; index++) assert.ok(await limited.resolve(clientIds[index]!, { ip: `198.51.100.${index}` }));
      await assert.rejects(limited.resolve(clientIds[20]!, { ip: '192.0.2.1' }), tooMany);
      assert.equal(docs.count('/limit/20.json'), 0);
    });
  });
}

describe('tessera cimd (CLI)', () => {
  const tessera = tesseraCli({ prefix: ['cimd'] });
  after(() => tessera.dispose());

  it('blocks, lists and unblocks URLs and domains, and refuses anything else', async () => {
    const url = await tessera('block', 'https://app.example.com/client.json', '--reason', 'phishing', '--json');
    assert.equal(url.status, 0, url.stderr);
    assert.deepEqual(url.json(), { pattern: 'https://app.example.com/client.json', reason: 'phishing' });
    assert.equal((await tessera('block', 'Evil.Example')).stdout.trim(), 'blocked evil.example');
    assert.deepEqual((await tessera('unblock', 'evil.example', '--json')).json(), { pattern: 'evil.example' });

    const list = await tessera('list', '--json');
    assert.deepEqual(
      list.json().blocked.map((entry: { pattern: string; reason: string | null }) => [entry.pattern, entry.reason]),
      [['https://app.example.com/client.json', 'phishing']],
    );

    const refused = await tessera('block', 'https://app.example.com/c?x=1');
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /neither a client id URL/);
  });
});
