/**
 * The front channel of the code flow: the authorization URL (PKCE S256, state, and a nonce when
 * `openid` is requested) and the checks on the redirect back to the app.
 */
import { InvalidResponseError, TesseraError } from './errors.js';
import { codeChallenge, randomToken } from './pkce.js';
import { hasScope } from './token-response.js';
import type { AccessLevel } from './token-store.js';

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
  /** Sent when `openid` is requested; the ID token must carry it back (OpenID Connect Core §3.1.2.1). */
  nonce: string | undefined;
  redirectUri: string;
}

/** What handleCallback checks the callback and the tokens against: the AuthorizationRequest itself. */
export interface CallbackExpectations {
  state: string;
  codeVerifier: string;
  nonce?: string | undefined;
  /** Defaults to the client's redirectUri. */
  redirectUri?: string | undefined;
}

export async function authorizationRequest(endpoint: string, clientId: string, redirectUri: string, params: AuthorizationParams): Promise<AuthorizationRequest> {
  const state = randomToken();
  const codeVerifier = randomToken();
  const nonce = hasScope(params.scope, 'openid') ? randomToken() : undefined;
  const url = new URL(endpoint);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  // Set last, so extra parameters can never replace the protocol's own.
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('state', state);
  if (nonce !== undefined) url.searchParams.set('nonce', nonce);
  url.searchParams.set('code_challenge', await codeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  return { url: url.href, state, codeVerifier, nonce, redirectUri };
}

/**
 * The code in the redirect back to the app, checked in this order: `state` (a forged or mixed-up
 * response), RFC 9207 `iss` (another server's response), then an OAuth `error`.
 */
export function authorizationCode(
  callbackUrl: string | URL,
  expected: CallbackExpectations,
  metadata: { issuer: string; authorization_response_iss_parameter_supported?: boolean },
): string {
  const params = new URL(callbackUrl).searchParams;
  if (params.get('state') !== expected.state) {
    throw new InvalidResponseError('state_mismatch', 'the callback state is not the one this sign-in started with');
  }
  const iss = params.get('iss');
  if (iss === null && metadata.authorization_response_iss_parameter_supported) {
    throw new InvalidResponseError('issuer_mismatch', 'the callback lacks the iss parameter the server promises');
  }
  if (iss !== null && iss !== metadata.issuer) {
    throw new InvalidResponseError('issuer_mismatch', `the callback comes from the issuer ${iss}, not ${metadata.issuer}`);
  }
  const error = params.get('error');
  if (error !== null) throw new TesseraError(error, params.get('error_description') ?? undefined);
  const code = params.get('code');
  if (!code) throw new InvalidResponseError('invalid_response', 'the callback carries neither a code nor an error');
  return code;
}
