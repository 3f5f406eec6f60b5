/**
 * The client an app uses to "Sign in with <Platform>" against Tessera and call the platform API:
 * discovery, the authorization code flow with PKCE, the device authorization grant, ID tokens,
 * single-flight refresh (proactive, and once more on a 401), project discovery, userinfo and
 * revocation. Runs on global fetch and WebCrypto.
 */
import { authorizationCode, authorizationRequest, type AuthorizationParams, type AuthorizationRequest, type CallbackExpectations } from './authorization.js';
import { DEVICE_CODE_GRANT_TYPE, parseDeviceAuthorization, pollForTokens, sleep, type DeviceCodeOptions } from './device-code.js';
import { errorFromResponse, InvalidResponseError, SignedOutError, TesseraError } from './errors.js';
import { basicAuthorization, baseUrlOf, metadataUrl, readObject } from './http.js';
import { IdTokenVerifier } from './id-token.js';
import { discoverProjects, type ProjectDiscovery } from './projects.js';
import { hasScope, parseTokenResponse } from './token-response.js';
import { MemoryTokenStore, type IdTokenClaims, type StoredTokens, type TokenStore } from './token-store.js';

/** An access token this close to expiry is refreshed before the next API call. */
export const REFRESH_MARGIN_MS = 10 * 60 * 1000;

export interface TesseraClientOptions {
  /** The issuer identifier, exactly as Tessera's discovery document states it. */
  issuer: string;
  /** A registered client id (`pca_…`) or a Client ID Metadata Document URL. */
  clientId: string;
  /** Only for confidential clients; sent with HTTP Basic (client_secret_basic). */
  clientSecret?: string | undefined;
  /**
   * The registered redirect URI for the code flow. Not needed for the device grant; for
   * signInWithBrowser, a loopback URI such as `http://127.0.0.1/callback` (the port is chosen then).
   */
  redirectUri?: string | undefined;
  /** Defaults to a MemoryTokenStore; apps persist tokens in their own (e.g. the Keychain). */
  store?: TokenStore;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Epoch milliseconds; defaults to Date.now. */
  now?: () => number;
  /** Waits between device-grant polls; defaults to setTimeout. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The parts of RFC 8414 metadata the SDK uses. */
export interface AuthorizationServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint?: string;
  userinfo_endpoint?: string;
  /** RFC 8628 §4. */
  device_authorization_endpoint?: string;
  jwks_uri?: string;
  id_token_signing_alg_values_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
  code_challenge_methods_supported?: string[];
  /** A regional deployment's own URL, where its platform API lives (`<base_url>/api`). */
  base_url?: string;
  region?: string;
}

export interface UserInfo {
  sub: string;
  name?: string;
  email?: string;
  email_verified?: boolean;
  [claim: string]: unknown;
}

export class TesseraClient {
  readonly store: TokenStore;
  private readonly http: typeof fetch;
  private readonly now: () => number;
  private readonly idTokens: IdTokenVerifier;
  /** Where the platform API lives when no token response named a region: discovery's base_url, else the issuer. */
  private readonly defaultPlatformUrl: string;
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
    // OpenID Connect Discovery §3: RS256 when the server names no algorithms.
    const algorithms = metadata.id_token_signing_alg_values_supported ?? ['RS256'];
    this.idTokens = new IdTokenVerifier(metadata.issuer, metadata.jwks_uri, algorithms, options.clientId, this.http, this.now);
    this.defaultPlatformUrl = baseUrlOf(metadata.base_url) ?? metadata.issuer.replace(/\/$/, '');
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
    if (metadata.base_url !== undefined && baseUrlOf(metadata.base_url) === undefined) {
      throw new InvalidResponseError('invalid_response', 'discovery names a base_url that is not an http(s) URL');
    }
    return new TesseraClient(metadata as AuthorizationServerMetadata, options);
  }

  /** The redirect URI the client was configured with. */
  get redirectUri(): string | undefined {
    return this.options.redirectUri;
  }

  /**
   * Where to send the user, with a fresh PKCE verifier, state and (for `openid`) nonce to keep until
   * the callback. `redirectUri` replaces the configured one for this request (a loopback port, say).
   */
  async authorizationUrl(params: AuthorizationParams, { redirectUri = this.options.redirectUri }: { redirectUri?: string | undefined } = {}): Promise<AuthorizationRequest> {
    if (redirectUri === undefined) throw new TypeError('authorizationUrl needs a redirectUri, in the client options or for this request');
    return authorizationRequest(this.metadata.authorization_endpoint, this.options.clientId, redirectUri, params);
  }

  /**
   * Validates the redirect back to the app (state first, then RFC 9207 `iss`, then `error`),
   * exchanges the code, verifies the ID token and stores the tokens.
   */
  async handleCallback(callbackUrl: string | URL, expected: CallbackExpectations): Promise<StoredTokens> {
    const code = authorizationCode(callbackUrl, expected, this.metadata);
    const redirectUri = expected.redirectUri ?? this.options.redirectUri;
    if (redirectUri === undefined) throw new TypeError('handleCallback needs the redirectUri the sign-in used');
    return this.signIn({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: expected.codeVerifier }, expected.nonce);
  }

  /**
   * Signs in on a device without a browser (RFC 8628): asks for a user code, hands it to `onCode`
   * to show, and polls until the user approves on another device.
   */
  async signInWithDeviceCode(options: DeviceCodeOptions): Promise<StoredTokens> {
    const endpoint = this.metadata.device_authorization_endpoint;
    if (!endpoint) throw new TesseraError('unsupported_grant_type', 'this server offers no device authorization endpoint (RFC 8628)');
    const { scope, resource, signal } = options;
    const requestedAt = this.now();
    const response = await this.postForm(endpoint, { scope, ...(resource ? { resource } : {}) }, signal);
    const authorization = parseDeviceAuthorization(await readObject(response), requestedAt);
    await options.onCode(authorization.code);
    const grant = { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: authorization.deviceCode };
    return pollForTokens(authorization, () => this.signIn(grant, undefined, signal), { now: this.now, sleep: this.options.sleep ?? sleep }, signal);
  }

  /**
   * Calls the platform API at `path` (e.g. `/api/projects/123`) with the bearer token, on the
   * user's region when the token response named one, refreshing first when the token is about to
   * expire, and refreshing and retrying once on a 401.
   */
  async fetchApi(path: string, init: RequestInit = {}): Promise<Response> {
    if (!path.startsWith('/')) throw new TypeError('fetchApi takes a path on the platform, such as /api/organizations');
    return this.authorizedFetch((tokens) => `${tokens.baseUrl ?? this.defaultPlatformUrl}${path}`, init);
  }

  /** The projects the grant covers, read the way its narrowing allows, with per-resource failures. */
  async discoverProjects(): Promise<ProjectDiscovery> {
    const tokens = await this.validTokens();
    return discoverProjects(async (path) => this.json(await this.fetchApi(path)), tokens);
  }

  /** The verified ID token claims of the signed-in user; undefined when `openid` was not granted. */
  async idTokenClaims(): Promise<IdTokenClaims | undefined> {
    return (await this.signedInTokens()).idTokenClaims;
  }

  /** OpenID Connect userinfo; needs a grant that includes `openid`. */
  async userInfo(): Promise<UserInfo> {
    const endpoint = this.metadata.userinfo_endpoint;
    if (!endpoint) throw new TesseraError('invalid_request', 'this server does not offer OpenID Connect userinfo');
    const { scope } = await this.signedInTokens();
    if (!hasScope(scope, 'openid')) throw new TesseraError('insufficient_scope', 'userinfo needs a grant that includes openid');
    return this.json(await this.authorizedFetch(() => endpoint, {}));
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

  /**
   * A token request that signs someone in (a code or a device code). When `openid` was granted the
   * ID token is required and verified before anything is stored.
   */
  private async signIn(params: Record<string, string>, nonce: string | undefined, signal?: AbortSignal): Promise<StoredTokens> {
    const issuedAt = this.now();
    const response = await this.postForm(this.metadata.token_endpoint, params, signal);
    const { tokens, idToken } = parseTokenResponse(await readObject(response), issuedAt);
    if (idToken !== undefined) {
      tokens.idToken = idToken;
      tokens.idTokenClaims = await this.idTokens.verify(idToken, { accessToken: tokens.accessToken, nonce });
    } else if (nonce !== undefined || hasScope(tokens.scope, 'openid')) {
      throw new InvalidResponseError('invalid_id_token', 'openid was requested but the token response has no ID token');
    }
    await this.store.set(tokens);
    return tokens;
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
    const { tokens, idToken } = parseTokenResponse(await readObject(response), issuedAt, current);
    if (idToken !== undefined) await this.acceptRefreshedIdToken(tokens, idToken, current.idTokenClaims);
    await this.store.set(tokens);
    return tokens;
  }

  /**
   * A refreshed ID token must name the same user (OpenID Connect Core §12.2); one that fails
   * verification signs the user out. When the issuer's keys cannot be read just now, the new
   * tokens are kept with the claims verified before: losing a rotated refresh token would sign
   * the user out for a network error.
   */
  private async acceptRefreshedIdToken(tokens: StoredTokens, idToken: string, previous: IdTokenClaims | undefined): Promise<void> {
    try {
      tokens.idTokenClaims = await this.idTokens.verify(idToken, { accessToken: tokens.accessToken, previous });
      tokens.idToken = idToken;
    } catch (error) {
      if (error instanceof InvalidResponseError) {
        await this.store.clear();
        throw error;
      }
    }
  }

  /** `target` names the URL for the tokens used, which a refresh may have moved to another region. */
  private async authorizedFetch(target: (tokens: StoredTokens) => string, init: RequestInit): Promise<Response> {
    const tokens = await this.validTokens();
    const response = await this.withBearer(target(tokens), init, tokens);
    if (response.status !== 401) return response;
    await response.body?.cancel();
    const refreshed = await this.refreshReplacing(tokens);
    return this.withBearer(target(refreshed), init, refreshed);
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

  /** A form POST to a token, device authorization or revocation endpoint, authenticated as this client. */
  private async postForm(endpoint: string, params: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const body = new URLSearchParams(params);
    const { clientId, clientSecret } = this.options;
    if (clientSecret === undefined) body.set('client_id', clientId);
    else headers.authorization = basicAuthorization(clientId, clientSecret);
    const response = await this.http(endpoint, { method: 'POST', headers, body, ...(signal ? { signal } : {}) });
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }
}
