/**
 * The client an app uses to "Sign in with <Platform>" against Tessera and call the platform API:
 * discovery, the authorization code flow with PKCE, single-flight refresh (proactive, and once
 * more on a 401), project discovery, userinfo and revocation. Runs on global fetch and WebCrypto.
 */
import { errorFromResponse, InvalidResponseError, SignedOutError, TesseraError } from './errors.js';
import { codeChallenge, randomToken } from './pkce.js';
import { discoverProjects, type ProjectDiscovery } from './projects.js';
import { MemoryTokenStore, type AccessLevel, type StoredTokens, type TokenStore } from './token-store.js';

/** An access token this close to expiry is refreshed before the next API call. */
export const REFRESH_MARGIN_MS = 10 * 60 * 1000;

export interface TesseraClientOptions {
  /** The issuer identifier, exactly as Tessera's discovery document states it. */
  issuer: string;
  /** A registered client id (`pca_…`) or a Client ID Metadata Document URL. */
  clientId: string;
  /** Only for confidential clients; sent with HTTP Basic (client_secret_basic). */
  clientSecret?: string | undefined;
  redirectUri: string;
  /** Defaults to a MemoryTokenStore; apps persist tokens in their own (e.g. the Keychain). */
  store?: TokenStore;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Epoch milliseconds; defaults to Date.now. */
  now?: () => number;
}

/** The parts of RFC 8414 metadata the SDK uses. */
export interface AuthorizationServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint?: string;
  userinfo_endpoint?: string;
  authorization_response_iss_parameter_supported?: boolean;
  code_challenge_methods_supported?: string[];
}

export interface AuthorizationParams {
  /** Space-separated scopes, e.g. `openid profile project:read`. */
  scope: string;
  /** Forces the consent page to one narrowing level. */
  required_access_level?: AccessLevel;
  /** A project id to pre-select on the consent page. */
  project?: string;
  /** RFC 8707 resource the token is for, e.g. `<issuer>/api`. */
  resource?: string;
  prompt?: 'none' | 'login' | 'consent' | 'select_account';
  [parameter: string]: string | undefined;
}

/** What the app keeps (in memory or session storage) until the callback arrives. */
export interface AuthorizationRequest {
  url: string;
  state: string;
  codeVerifier: string;
}

export interface UserInfo {
  sub: string;
  name?: string;
  email?: string;
  email_verified?: boolean;
  [claim: string]: unknown;
}

/** RFC 8414 §3: the well-known segment goes between the host and the issuer's path. */
function metadataUrl(issuer: string): string {
  const url = new URL(issuer);
  url.pathname = `/.well-known/oauth-authorization-server${url.pathname === '/' ? '' : url.pathname}`;
  return url.href;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined for Basic. */
function basicAuthorization(clientId: string, clientSecret: string): string {
  const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${btoa(`${formEncode(clientId)}:${formEncode(clientSecret)}`)}`;
}

/** A JSON object body; anything else is refused, never half-read. */
async function readObject(response: Response): Promise<Record<string, unknown>> {
  const body: unknown = await response.json().catch(() => undefined);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidResponseError('invalid_response', 'Tessera answered with something other than a JSON object');
  }
  return body as Record<string, unknown>;
}

const isAccessLevel = (value: unknown): value is AccessLevel => value === 'all' || value === 'organization' || value === 'project';
const stringArray = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;

/** RFC 6749 §5.1 plus Tessera's narrowing; a refresh answer may leave out what did not change. */
function parseTokenResponse(body: Record<string, unknown>, issuedAt: number, previous?: StoredTokens): StoredTokens {
  const { access_token, token_type, expires_in } = body;
  if (typeof access_token !== 'string' || typeof token_type !== 'string' || token_type.toLowerCase() !== 'bearer' || typeof expires_in !== 'number') {
    throw new InvalidResponseError('invalid_response', 'the token response lacks a Bearer access_token with expires_in');
  }
  return {
    accessToken: access_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : previous?.refreshToken,
    expiresAt: issuedAt + expires_in * 1000,
    scope: typeof body.scope === 'string' ? body.scope : (previous?.scope ?? ''),
    accessLevel: isAccessLevel(body.access_level) ? body.access_level : (previous?.accessLevel ?? 'all'),
    scopedOrganizations: stringArray(body.scoped_organizations) ?? previous?.scopedOrganizations ?? [],
    scopedProjects: stringArray(body.scoped_projects) ?? previous?.scopedProjects ?? [],
  };
}

export class TesseraClient {
  readonly store: TokenStore;
  private readonly http: typeof fetch;
  private readonly now: () => number;
  /** The refresh in progress, shared by every caller that needs one meanwhile. */
  private refreshing: Promise<StoredTokens> | undefined;

  private constructor(
    readonly metadata: AuthorizationServerMetadata,
    private readonly options: TesseraClientOptions,
  ) {
    this.store = options.store ?? new MemoryTokenStore();
    // Called unbound: browsers refuse a fetch invoked as a method of another object.
    this.http = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
  }

  /** Reads Tessera's discovery document and refuses one that names another issuer (RFC 8414 §3.3). */
  static async discover(options: TesseraClientOptions): Promise<TesseraClient> {
    const http = options.fetch ?? fetch;
    const response = await http(metadataUrl(options.issuer), { headers: { accept: 'application/json' } });
    if (!response.ok) throw await errorFromResponse(response);
    const metadata = (await readObject(response)) as Partial<AuthorizationServerMetadata>;
    if (metadata.issuer !== options.issuer) {
      throw new InvalidResponseError('issuer_mismatch', `discovery names the issuer ${String(metadata.issuer)}, not the configured ${options.issuer}`);
    }
    if (typeof metadata.authorization_endpoint !== 'string' || typeof metadata.token_endpoint !== 'string') {
      throw new InvalidResponseError('invalid_response', 'discovery lacks the authorization or token endpoint');
    }
    if (!metadata.code_challenge_methods_supported?.includes('S256')) {
      throw new InvalidResponseError('invalid_response', 'the server does not support PKCE with S256');
    }
    return new TesseraClient(metadata as AuthorizationServerMetadata, options);
  }

  /** Where to send the user, with a fresh PKCE verifier and state to keep until the callback. */
  async authorizationUrl(params: AuthorizationParams): Promise<AuthorizationRequest> {
    const state = randomToken();
    const codeVerifier = randomToken();
    const url = new URL(this.metadata.authorization_endpoint);
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
    // Set last, so extra parameters can never replace the protocol's own.
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.options.clientId);
    url.searchParams.set('redirect_uri', this.options.redirectUri);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await codeChallenge(codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return { url: url.href, state, codeVerifier };
  }

  /**
   * Validates the redirect back to the app (state first, then RFC 9207 `iss`, then `error`),
   * exchanges the code and stores the tokens.
   */
  async handleCallback(callbackUrl: string | URL, expected: { state: string; codeVerifier: string }): Promise<StoredTokens> {
    const params = new URL(callbackUrl).searchParams;
    if (params.get('state') !== expected.state) {
      throw new InvalidResponseError('state_mismatch', 'the callback state is not the one this sign-in started with');
    }
    const iss = params.get('iss');
    if (iss === null && this.metadata.authorization_response_iss_parameter_supported) {
      throw new InvalidResponseError('issuer_mismatch', 'the callback lacks the iss parameter the server promises');
    }
    if (iss !== null && iss !== this.metadata.issuer) {
      throw new InvalidResponseError('issuer_mismatch', `the callback comes from the issuer ${iss}, not ${this.metadata.issuer}`);
    }
    const error = params.get('error');
    if (error !== null) throw new TesseraError(error, params.get('error_description') ?? undefined);
    const code = params.get('code');
    if (!code) throw new InvalidResponseError('invalid_response', 'the callback carries neither a code nor an error');

    const issuedAt = this.now();
    const response = await this.postForm(this.metadata.token_endpoint, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.options.redirectUri,
      code_verifier: expected.codeVerifier,
    });
    const tokens = parseTokenResponse(await readObject(response), issuedAt);
    await this.store.set(tokens);
    return tokens;
  }

  /**
   * Calls the platform API at `path` (e.g. `/api/projects/123`) with the bearer token, refreshing
   * first when the token is about to expire, and refreshing and retrying once on a 401.
   */
  async fetchApi(path: string, init: RequestInit = {}): Promise<Response> {
    if (!path.startsWith('/')) throw new TypeError('fetchApi takes a path on the platform, such as /api/organizations');
    return this.authorizedFetch(`${this.metadata.issuer.replace(/\/$/, '')}${path}`, init);
  }

  /** The projects the grant covers, read the way its narrowing allows, with per-resource failures. */
  async discoverProjects(): Promise<ProjectDiscovery> {
    const tokens = await this.validTokens();
    return discoverProjects(async (path) => this.json(await this.fetchApi(path)), tokens);
  }

  /** OpenID Connect userinfo; needs a grant that includes `openid`. */
  async userInfo(): Promise<UserInfo> {
    const endpoint = this.metadata.userinfo_endpoint;
    if (!endpoint) throw new TesseraError('invalid_request', 'this server does not offer OpenID Connect userinfo');
    const { scope } = await this.signedInTokens();
    if (!scope.split(' ').includes('openid')) throw new TesseraError('insufficient_scope', 'userinfo needs a grant that includes openid');
    return this.json(await this.authorizedFetch(endpoint, {}));
  }

  /** Signs out: revokes the refresh token (and with it the whole grant, RFC 7009), then clears the store. */
  async revoke(): Promise<void> {
    const tokens = await this.store.get();
    if (!tokens) return;
    try {
      const endpoint = this.metadata.revocation_endpoint;
      if (endpoint) {
        const response = await this.postForm(
          endpoint,
          tokens.refreshToken ? { token: tokens.refreshToken, token_type_hint: 'refresh_token' } : { token: tokens.accessToken, token_type_hint: 'access_token' },
        );
        await response.body?.cancel();
      }
    } finally {
      await this.store.clear();
    }
  }

  private async signedInTokens(): Promise<StoredTokens> {
    const tokens = await this.store.get();
    if (!tokens) throw new SignedOutError('login_required', 'no one is signed in');
    return tokens;
  }

  /** Stored tokens whose access token has more than REFRESH_MARGIN_MS left, refreshing first if not. */
  private async validTokens(): Promise<StoredTokens> {
    const tokens = await this.signedInTokens();
    return tokens.expiresAt - this.now() > REFRESH_MARGIN_MS ? tokens : this.refreshReplacing(tokens);
  }

  /**
   * Single flight: every caller holding a stale access token while a refresh runs shares it, and
   * one arriving after it finished gets its result instead of refreshing again, so a refresh token
   * is never presented twice (the SDK does not lean on Tessera's grace window).
   */
  private refreshReplacing(stale: StoredTokens): Promise<StoredTokens> {
    this.refreshing ??= this.refresh(stale).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refresh(stale: StoredTokens): Promise<StoredTokens> {
    const current = await this.signedInTokens();
    if (current.accessToken !== stale.accessToken) return current;
    if (!current.refreshToken) {
      await this.store.clear();
      throw new SignedOutError('login_required', 'the access token expired and there is no refresh token');
    }
    const issuedAt = this.now();
    let response: Response;
    try {
      response = await this.postForm(this.metadata.token_endpoint, { grant_type: 'refresh_token', refresh_token: current.refreshToken });
    } catch (error) {
      if (error instanceof TesseraError && error.code === 'invalid_grant') {
        await this.store.clear();
        throw new SignedOutError('invalid_grant', error.description);
      }
      throw error;
    }
    const tokens = parseTokenResponse(await readObject(response), issuedAt, current);
    await this.store.set(tokens);
    return tokens;
  }

  private async authorizedFetch(url: string, init: RequestInit): Promise<Response> {
    const tokens = await this.validTokens();
    const response = await this.withBearer(url, init, tokens);
    if (response.status !== 401) return response;
    await response.body?.cancel();
    return this.withBearer(url, init, await this.refreshReplacing(tokens));
  }

  private withBearer(url: string, init: RequestInit, tokens: StoredTokens): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${tokens.accessToken}`);
    return this.http(url, { ...init, headers });
  }

  private async json<T>(response: Response): Promise<T> {
    if (!response.ok) throw await errorFromResponse(response);
    return (await readObject(response)) as T;
  }

  /** A form POST to the token or revocation endpoint, authenticated as this client. */
  private async postForm(endpoint: string, params: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const body = new URLSearchParams(params);
    const { clientId, clientSecret } = this.options;
    if (clientSecret === undefined) body.set('client_id', clientId);
    else headers.authorization = basicAuthorization(clientId, clientSecret);
    const response = await this.http(endpoint, { method: 'POST', headers, body });
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }
}
