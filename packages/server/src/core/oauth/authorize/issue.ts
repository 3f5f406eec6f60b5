/**
 * Issuing an authorization code (RFC 6749 §4.1.2) for a request the user has consented to, and
 * the URL that delivers it, with `state` and RFC 9207's `iss`. A code is stored as a hash and
 * names the token family its redemption will start, so a replay can revoke what it issued.
 */
import { randomUUID } from 'node:crypto';
import type { Repositories } from '../../../store/index.js';
import type { Authorization } from '../../../store/schema.js';
import type { Context } from '../../context.js';
import { generateToken, hashToken } from '../../crypto/token-formats.js';
import { acrOf, type AuthenticationMethod } from '../../oidc/acr.js';
import { appendParams } from '../redirect-uri.js';
import { formatScope } from '../scopes.js';
import type { AuthorizationRequest } from './request.js';

/** The signed-in user an authorization is decided for: who, and how and when they proved it. */
export interface SignedInUser {
  userId: string;
  email: string;
  authTime: number;
  amr: AuthenticationMethod[];
}

/** Stores a code for the request through `tx` and returns the URL that delivers it to the client. */
export async function issueCode(ctx: Context, tx: Repositories, request: AuthorizationRequest, user: SignedInUser, authorization: Authorization): Promise<string> {
  const now = ctx.now();
  const code = generateToken('authorizationCode');
  await tx.tokens.insertCode({
    code_hash: hashToken(code),
    client_id: request.client.id,
    user_id: user.userId,
    authorization_id: authorization.id,
    family_id: randomUUID(),
    redirect_uri: request.redirectUri,
    code_challenge: request.codeChallenge,
    scope: formatScope(request.scopes),
    resource: request.resource ?? null,
    nonce: request.nonce ?? null,
    auth_time: user.authTime,
    amr: user.amr.join(' '),
    // What the sign-in was, for the ID token, only when the request asked (OIDC Core §2).
    acr: request.acr ? acrOf(user.amr) : null,
    expires_at: now + ctx.config.ttl.authorizationCode * 1000,
    consumed_at: null,
    created_at: now,
  });
  return appendParams(request.redirectUri, { code, state: request.state, iss: ctx.config.issuer });
}

/** The URL to send an error back to the client (RFC 6749 §4.1.2.1 with RFC 9207's `iss`). */
export function errorRedirect(ctx: Context, redirectUri: string, state: string | undefined, error: { code: string; description: string }): string {
  return appendParams(redirectUri, { error: error.code, error_description: error.description, state, iss: ctx.config.issuer });
}
