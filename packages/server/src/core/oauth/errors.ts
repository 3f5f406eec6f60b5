/**
 * OAuth errors as values. Protocol functions throw `OAuthError`; the HTTP layer turns it into a
 * JSON body (RFC 6749 §5.2), a redirect (§4.1.2.1) or a bearer challenge (RFC 6750 §3).
 */
export type OAuthErrorCode =
  // RFC 6749 §4.1.2.1 and §5.2
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  // RFC 7009 §2.2.1
  | 'unsupported_token_type'
  // RFC 6750 §3.1
  | 'invalid_token'
  | 'insufficient_scope'
  // RFC 7591 §3.2.2
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  // RFC 8707 §2
  | 'invalid_target'
  // RFC 8628 §3.5: the device authorization grant's answers while the device polls
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  // OpenID Connect Core §3.1.2.6
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'account_selection_required'
  // OpenID Connect Unmet Authentication Requirements 1.0 §4
  | 'unmet_authentication_requirements';

const STATUS: Partial<Record<OAuthErrorCode, number>> = {
  invalid_client: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
};

export class OAuthError extends Error {
  readonly status: number;
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    status?: number,
  ) {
    super(`${code}: ${description}`);
    this.status = status ?? STATUS[code] ?? 400;
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}
