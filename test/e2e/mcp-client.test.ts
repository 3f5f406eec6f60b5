/**
 * A real MCP client (@modelcontextprotocol/sdk's `auth()`) authorizing against Tessera the two ways
 * the MCP authorization spec (2025-11-25) allows a client without a pre-registered id: Dynamic
 * Client Registration, and a Client ID Metadata Document served over HTTPS — on every storage target.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { storageTargets } from '../support/database.js';
import { DocumentServer } from '../support/document-server.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://127.0.0.1:7777/callback';
const SCOPE = 'project:read annotation:write';

/**
 * An MCP client's storage and browser in one: it keeps what `auth()` saves, and "redirects" by
 * having a signed-in user agent approve the consent page, keeping the code from the callback.
 */
class ConsentingProvider implements OAuthClientProvider {
  clientMetadataUrl?: string;
  authorizationCode: string | undefined;
  savedClient: OAuthClientInformationMixed | undefined;
  savedTokens: OAuthTokens | undefined;
  private verifier: string | undefined;
  private readonly expectedState = randomBytes(16).toString('base64url');

  constructor(
    private readonly agent: UserAgent,
    private readonly issuer: string,
    readonly clientMetadata: OAuthClientMetadata,
    clientMetadataUrl?: string,
  ) {
    if (clientMetadataUrl) this.clientMetadataUrl = clientMetadataUrl;
  }

  get redirectUrl(): string {
    return REDIRECT;
  }
  state(): string {
    return this.expectedState;
  }
  clientInformation() {
    return this.savedClient;
  }
  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.savedClient = information;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.savedTokens = tokens;
  }
  saveCodeVerifier(codeVerifier: string): void {
    this.verifier = codeVerifier;
  }
  codeVerifier(): string {
    assert.ok(this.verifier, 'the code verifier was saved before the redirect');
    return this.verifier;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    const callback = await this.agent.authorize(authorizationUrl.href);
    assert.equal(callback.origin + callback.pathname, REDIRECT);
    assert.equal(callback.searchParams.get('error'), null, callback.searchParams.get('error_description') ?? '');
    assert.equal(callback.searchParams.get('state'), this.expectedState);
    assert.equal(callback.searchParams.get('iss'), this.issuer);
    this.authorizationCode = callback.searchParams.get('code') ?? undefined;
  }
}

function clientMetadata(overrides: Partial<OAuthClientMetadata> = {}): OAuthClientMetadata {
  return {
    client_name: 'Claude-like Agent',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: SCOPE,
    ...overrides,
  };
}

for (const target of storageTargets()) {
  describe(`MCP client authorization (${target.name})`, () => {
    const documents = new DocumentServer();
    let server: TestServer;
    let agent: UserAgent;

    before(async () => {
      await documents.start();
      server = await startTestServer(target, { TESSERA_CIMD_ALLOW_LOOPBACK: 'true', TESSERA_CIMD_CA_FILE: documents.caFile });
      const { email } = await seedUser(server.ctx);
      agent = new UserAgent(server.url);
      await agent.signIn(email, PASSWORD);
    });
    after(async () => {
      await server.close();
      await documents.close();
    });

    /** Runs `auth()` as an MCP client does: a redirect, the callback's code, then a refresh. */
    async function authorizeAndRefresh(provider: ConsentingProvider, clientSecret?: string) {
      const serverUrl = server.url;
      assert.equal(await auth(provider, { serverUrl }), 'REDIRECT');
      assert.ok(provider.authorizationCode, 'the consent produced a code');
      assert.equal(await auth(provider, { serverUrl, authorizationCode: provider.authorizationCode }), 'AUTHORIZED');

      const first = provider.savedTokens!;
      assert.match(first.access_token, /^pha_/);
      assert.match(first.refresh_token!, /^phr_/);
      assert.equal(first.token_type.toLowerCase(), 'bearer');
      const clientId = provider.savedClient!.client_id;
      const app = await TestOAuthClient.discover(server.url, { clientId, clientSecret, redirectUri: REDIRECT });
      const introspection = await app.introspect(first.access_token);
      assert.equal(introspection.active, true);
      assert.equal(introspection.client_id, clientId);

      // With tokens saved, auth() refreshes instead of redirecting.
      assert.equal(await auth(provider, { serverUrl }), 'AUTHORIZED');
      const second = provider.savedTokens!;
      assert.match(second.access_token, /^pha_/);
      assert.match(second.refresh_token!, /^phr_/);
      assert.notEqual(second.refresh_token, first.refresh_token, 'the refresh token rotated');
      assert.equal((await app.introspect(second.access_token)).active, true);
      return { clientId, tokens: second };
    }

    it('registers dynamically when the client has no metadata document URL', async () => {
      const provider = new ConsentingProvider(agent, server.url, clientMetadata());
      const { clientId } = await authorizeAndRefresh(provider);
      assert.match(clientId, /^pca_/);
      assert.equal((provider.savedClient as { client_secret?: string }).client_secret, undefined, 'a public client gets no secret');
      const row = await server.db.selectFrom('clients').selectAll().where('id', '=', clientId).executeTakeFirstOrThrow();
      assert.equal(row.kind, 'dynamic');
      assert.equal(row.name, 'Claude-like Agent');
      assert.equal(row.is_public, 1);
    });

    it('registers a confidential client dynamically and authenticates with its secret as registered', async () => {
      const provider = new ConsentingProvider(agent, server.url, clientMetadata({ client_name: 'Server-side Agent', token_endpoint_auth_method: 'client_secret_post' }));
      assert.equal(await auth(provider, { serverUrl: server.url }), 'REDIRECT');
      const secret = (provider.savedClient as { client_secret?: string }).client_secret;
      assert.match(secret ?? '', /^pcs_/);
      assert.equal(await auth(provider, { serverUrl: server.url, authorizationCode: provider.authorizationCode! }), 'AUTHORIZED');
      assert.match(provider.savedTokens!.access_token, /^pha_/);
      assert.equal(await auth(provider, { serverUrl: server.url }), 'AUTHORIZED', 'refreshes with the secret');
      const row = await server.db.selectFrom('clients').selectAll().where('id', '=', provider.savedClient!.client_id).executeTakeFirstOrThrow();
      assert.equal(row.is_public, 0);
    });

    it('uses a Client ID Metadata Document when the client has one and the server supports it', async () => {
      const clientMetadataUrl = documents.serve('/agent/client.json', { client_name: 'Hosted Agent', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
      const provider = new ConsentingProvider(agent, server.url, clientMetadata({ client_name: 'Hosted Agent' }), clientMetadataUrl);
      const { clientId } = await authorizeAndRefresh(provider);
      assert.equal(clientId, clientMetadataUrl, 'the document URL is the client id');
      assert.equal(await server.db.selectFrom('clients').select('id').where('name', '=', 'Hosted Agent').executeTakeFirst(), undefined, 'nothing was registered');
      const cached = await server.db.selectFrom('cimd_documents').select('client_id').where('client_id', '=', clientMetadataUrl).executeTakeFirst();
      assert.equal(cached?.client_id, clientMetadataUrl);
    });
  });
}
