/** The real OAuth client used by end-to-end tests: oauth4webapi against a running Tessera. */
import * as oauth from 'oauth4webapi';

/** An HTTP Basic client authentication header (RFC 6749 §2.3.1: id and secret form-urlencoded first). */
export function basicAuth(clientId: string, clientSecret: string): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
}

export interface ClientOptions {
  clientId: string;
  clientSecret?: string | undefined;
  redirectUri: string;
}

export class TestOAuthClient {
  readonly client: oauth.Client;
  readonly auth: oauth.ClientAuth;
  constructor(
    readonly as: oauth.AuthorizationServer,
    readonly options: ClientOptions,
  ) {
    this.client = { client_id: options.clientId };
    this.auth = options.clientSecret ? oauth.ClientSecretBasic(options.clientSecret) : oauth.None();
  }

  static async discover(issuer: string, options: ClientOptions): Promise<TestOAuthClient> {
    const issuerUrl = new URL(issuer);
    const response = await oauth.discoveryRequest(issuerUrl, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true });
    return new TestOAuthClient(await oauth.processDiscoveryResponse(issuerUrl, response), options);
  }

  /** Builds an authorization URL with a fresh PKCE pair and state. */
  async authorizationUrl(scope: string, extra: Record<string, string> = {}) {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(this.as.authorization_endpoint!);
    url.searchParams.set('client_id', this.options.clientId);
    url.searchParams.set('redirect_uri', this.options.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', scope);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value);
    return { url, codeVerifier, state };
  }

  async exchange(callback: URL, codeVerifier: string, state: string) {
    const params = oauth.validateAuthResponse(this.as, this.client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(this.as, this.client, this.auth, params, this.options.redirectUri, codeVerifier, {
      [oauth.allowInsecureRequests]: true,
    });
    return oauth.processAuthorizationCodeResponse(this.as, this.client, response);
  }

  async refresh(refreshToken: string) {
    const response = await oauth.refreshTokenGrantRequest(this.as, this.client, this.auth, refreshToken, { [oauth.allowInsecureRequests]: true });
    return oauth.processRefreshTokenResponse(this.as, this.client, response);
  }

  async revoke(token: string) {
    const response = await oauth.revocationRequest(this.as, this.client, this.auth, token, { [oauth.allowInsecureRequests]: true });
    return oauth.processRevocationResponse(response);
  }

  async introspect(token: string) {
    const response = await oauth.introspectionRequest(this.as, this.client, this.auth, token, { [oauth.allowInsecureRequests]: true });
    return oauth.processIntrospectionResponse(this.as, this.client, response);
  }
}
