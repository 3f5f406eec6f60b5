/**
 * An MCP server protected by Tessera end to end (examples/mcp-server, its own process): the MCP
 * SDK's client finds Tessera from the server's 401 (RFC 9728), registers dynamically, sends PKCE
 * and `resource`, a user consents in Chromium, the tool call (which calls the platform API as the
 * user) succeeds, a refresh succeeds; after the user revokes the app in Settings › Connected apps,
 * the next call is refused. Once with opaque tokens checked by introspection, once with JWT access
 * tokens checked offline.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth, UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Page } from 'playwright-core';
import { createResourceServer } from '../../packages/server/src/core/resources/registered.js';
import { browserSuite, useBrowser } from '../support/browser.js';
import { sqliteTarget } from '../support/database.js';
import { PASSWORD, seedOrganization, seedUser } from '../support/seed.js';
import { freePort, startTestServer, type TestServer } from '../support/server.js';

const CACHE_MS = 1000;
const APP_NAME = 'Claude-like Agent';

/** The MCP client's storage, whose "browser" is Chromium: the user consents there and the callback's code is kept. */
class BrowserProvider implements OAuthClientProvider {
  savedClient: OAuthClientInformationMixed | undefined;
  savedTokens: OAuthTokens | undefined;
  code: string | undefined;
  private verifier: string | undefined;
  constructor(
    private readonly page: Page,
    private readonly callbacks: { redirectUri: string; next(): Promise<URL> },
  ) {}
  get redirectUrl() {
    return this.callbacks.redirectUri;
  }
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: APP_NAME, redirect_uris: [this.callbacks.redirectUri], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: 'user:read organization:read' };
  }
  clientInformation() {
    return this.savedClient;
  }
  saveClientInformation(information: OAuthClientInformationMixed) {
    this.savedClient = information;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.savedTokens = tokens;
  }
  saveCodeVerifier(codeVerifier: string) {
    this.verifier = codeVerifier;
  }
  codeVerifier() {
    return this.verifier!;
  }
  async redirectToAuthorization(url: URL) {
    assert.ok(url.searchParams.get('resource'), 'the request names the resource (RFC 8707)');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    await this.page.goto(url.href);
    const landed = this.callbacks.next();
    await this.page.getByRole('button', { name: 'Authorize' }).click();
    this.code = (await landed).searchParams.get('code') ?? undefined;
  }
}

async function startMcpServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/mcp-server/server.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit').then(() => { throw new Error('the MCP server exited'); })])) as [Buffer];
  assert.match(line.toString(), /listening/);
  return { child, url: `http://127.0.0.1:${env.PORT}/mcp` };
}

for (const tokenFormat of ['opaque', 'jwt'] as const) {
  describe(`an MCP server protected by Tessera (${tokenFormat} access tokens)`, browserSuite, () => {
    const ui = useBrowser();
    let server: TestServer;
    let mcp: { child: ChildProcess; url: string };
    let page: Page;

    before(async () => {
      server = await startTestServer(sqliteTarget);
      const user = await seedUser(server.ctx, 'ada@example.com');
      await seedOrganization(server.ctx, user.id, 'Acme', ['Web']);
      const port = await freePort();
      const resource = `http://127.0.0.1:${port}/mcp`;
      const { resource: row, clientSecret } = await createResourceServer(server.ctx, { uri: resource, name: 'Acme MCP', tokenFormat, accessTokenTtl: tokenFormat === 'jwt' ? 2 : null, platformApiAccess: true });
      mcp = await startMcpServer({
        PORT: String(port), TESSERA_ISSUER: server.url, MCP_RESOURCE: resource, PLATFORM_API: `${server.url}/api`, MCP_CACHE_MS: String(CACHE_MS),
        ...(tokenFormat === 'opaque' ? { MCP_CLIENT_ID: row.client_id, MCP_CLIENT_SECRET: clientSecret } : {}),
      });
      page = await ui.browser.newPage();
      await page.goto(`${server.url}/login`);
      await page.getByLabel('Email').fill('ada@example.com');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((url) => !url.pathname.startsWith('/login'));
    });
    after(async () => {
      mcp?.child.kill('SIGTERM');
      await server?.close();
    });

    const connect = async (provider: BrowserProvider) => {
      const client = new Client({ name: 'e2e', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider }));
      return client;
    };
    const rawCall = (token: string) =>
      fetch(mcp.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
      });

    it('authorizes, calls a tool, refreshes, and is refused once the user revokes the app', async () => {
      // Unauthenticated: 401 with resource_metadata, from which the SDK finds Tessera.
      const challenge = await fetch(mcp.url, { method: 'POST' });
      assert.equal(challenge.status, 401);
      assert.match(challenge.headers.get('www-authenticate')!, /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/);

      const provider = new BrowserProvider(page, ui.callbacks);
      const transport = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider });
      await assert.rejects(new Client({ name: 'e2e', version: '1.0.0' }).connect(transport), UnauthorizedError);
      assert.match(provider.savedClient!.client_id, /^pca_/, 'registered dynamically');
      assert.ok(provider.code, 'the user consented in Chromium');
      await transport.finishAuth(provider.code);
      const first = provider.savedTokens!;
      if (tokenFormat === 'jwt') assert.equal(first.access_token.split('.').length, 3);
      else assert.match(first.access_token, /^pha_/);

      const client = await connect(provider);
      const whoami = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal(whoami.isError, undefined, JSON.stringify(whoami));
      assert.match(JSON.stringify(whoami.content), /ada@example\.com/);
      const organizations = await client.callTool({ name: 'list_organizations', arguments: { limit: 5 } });
      assert.match(JSON.stringify(organizations.content), /Acme/);
      await client.close();

      // A refresh succeeds (the SDK refreshes when it holds a refresh token), and the new token works.
      assert.equal(await auth(provider, { serverUrl: mcp.url }), 'AUTHORIZED');
      const refreshed = provider.savedTokens!;
      assert.notEqual(refreshed.refresh_token, first.refresh_token);
      assert.equal((await rawCall(refreshed.access_token)).status, 200);

      // The user revokes the app in Settings › Connected apps.
      await page.goto(`${server.url}/settings/connected-apps`);
      await page.getByRole('button', { name: `Revoke ${APP_NAME}` }).click();
      await page.getByRole('button', { name: 'Revoke access' }).click();
      await page.getByRole('status').waitFor();
      const revokedAt = Date.now();

      if (tokenFormat === 'opaque') {
        // Refused within the verifier's cache delay.
        await sleep(Math.max(0, CACHE_MS - (Date.now() - revokedAt)) + 50);
        const refused = await rawCall(refreshed.access_token);
        assert.equal(refused.status, 401);
        assert.match(refused.headers.get('www-authenticate')!, /error="invalid_token"/);
      } else {
        // A JWT is checked offline until it expires, but the platform API behind the tools refuses it
        // within its own cache delay (TESSERA_TOKEN_CACHE_MS, 1 s)…
        await sleep(Math.max(0, CACHE_MS - (Date.now() - revokedAt)) + 50);
        const after = await rawCall(refreshed.access_token);
        if (after.status === 200) assert.match(await after.text(), /the platform API answered 401/);
        // …and the MCP server refuses it once its short lifetime (2 s, plus 5 s clock tolerance) is over.
        await sleep(Math.max(0, 7_500 - (Date.now() - revokedAt)));
        assert.equal((await rawCall(refreshed.access_token)).status, 401);
      }
      // No refresh either: the whole grant was revoked.
      const refresh = await fetch(`${server.url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshed.refresh_token!, client_id: provider.savedClient!.client_id }) });
      assert.equal(refresh.status, 400);
    });
  });
}
