/**
 * What the SDK throws. Messages carry the OAuth error code and Tessera's description, never a
 * token, code, verifier or secret, so an app may log them as they are.
 */

/**
 * Tessera answered with an OAuth error (RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3, RFC 7009, RFC 8628
 * §3.5); the base of every error the SDK throws.
 */
export class TesseraError extends Error {
  constructor(
    /** The OAuth `error` code, e.g. `access_denied`, `invalid_grant`, `insufficient_scope`. */
    readonly code: string,
    /** The `error_description`, when Tessera sent one. */
    readonly description: string | undefined,
    /** The HTTP status, when the error came from an HTTP response rather than a redirect. */
    readonly status?: number,
  ) {
    super(description ? `${code}: ${description}` : code);
    this.name = new.target.name;
  }
}

/**
 * The user is no longer signed in: there are no tokens, or the refresh token was revoked or has
 * expired (`invalid_grant`). The store has been cleared; the app returns to its sign-in screen.
 */
export class SignedOutError extends TesseraError {
  constructor(code: 'invalid_grant' | 'login_required', description: string | undefined) {
    super(code, description);
  }
}

/**
 * The SDK refused what it received: a callback whose `state` or `iss` does not match (a forged or
 * mixed-up response), discovery metadata for another issuer, an ID token that fails verification,
 * or a malformed body.
 */
export class InvalidResponseError extends TesseraError {
  constructor(code: 'state_mismatch' | 'issuer_mismatch' | 'invalid_id_token' | 'invalid_response', description: string) {
    super(code, description);
  }
}

/** A sign-in from the command line waited longer than its time limit; nothing was stored. */
export class SignInTimeoutError extends TesseraError {
  constructor(description: string) {
    super('timeout', description);
  }
}

/** Turns an error body (`{error, error_description}`) into a TesseraError; anything else keeps its status. */
export async function errorFromResponse(response: Response): Promise<TesseraError> {
  const body = (await response.json().catch(() => undefined)) as { error?: unknown; error_description?: unknown } | undefined;
  if (typeof body?.error === 'string') {
    return new TesseraError(body.error, typeof body.error_description === 'string' ? body.error_description : undefined, response.status);
  }
  return new TesseraError(response.status >= 500 ? 'server_error' : 'invalid_request', `Tessera answered HTTP ${response.status} without an OAuth error`, response.status);
}
