/**
 * The one error the verifier and its helpers throw: an OAuth error with the HTTP status and the
 * headers to answer with. Its message carries the error code and a description, never the token.
 */

export type BearerErrorCode =
  /** RFC 6750 §3.1: a malformed Authorization header (400). */
  | 'invalid_request'
  /** RFC 6750 §3.1: no token (401, without an error in the challenge), or an invalid, expired, revoked or foreign one (401). */
  | 'invalid_token'
  /** RFC 6750 §3.1: the token lacks a scope the request needs (403). */
  | 'insufficient_scope'
  /** The token was narrowed away from the organization or project the request acts on (403). */
  | 'access_denied'
  /** The authorization server cannot be reached; nothing is known about the token (503). */
  | 'temporarily_unavailable'
  /** The authorization server refuses this resource server (its introspection credentials, say) (500). */
  | 'server_error';

export class BearerError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 500 | 503,
    readonly code: BearerErrorCode,
    readonly description: string,
    /** `WWW-Authenticate` (RFC 6750 §3) on token errors, `Retry-After` when the server asked for one. */
    readonly headers: Readonly<Record<string, string>> = {},
    /** The scope an `insufficient_scope` error lacked. */
    readonly scope?: string,
  ) {
    super(`${code}: ${description}`);
    this.name = 'BearerError';
  }

  /** Fastify's and Express's default error handlers read the status from here. */
  get statusCode(): number {
    return this.status;
  }

  /** The JSON body to answer with. */
  toJSON(): { error: BearerErrorCode; error_description: string; scope?: string } {
    return { error: this.code, error_description: this.description, ...(this.scope ? { scope: this.scope } : {}) };
  }
}
