/**
 * Token revocation (RFC 7009). Revoking a refresh token revokes its whole family, access tokens
 * included. A token that is unknown, malformed or another client's is answered the same way as a
 * success (§2.2), so the endpoint reveals nothing.
 */
import { recordAudit, type RequestMeta } from '../audit.js';
import type { Context } from '../context.js';
import type { OAuthClient } from '../clients/client.js';
import { OAuthError } from './errors.js';
import { findActiveAccessToken, findRefreshToken, presentedTokenKind } from './tokens.js';

export type RevocationResult = { revoked: 'family' | 'access_token'; familyId: string; userId: string } | { revoked: 'nothing' };

export async function revokeToken(
  ctx: Context,
  client: OAuthClient,
  params: { token?: string; token_type_hint?: string },
  meta: RequestMeta = {},
): Promise<RevocationResult> {
  if (!params.token) throw new OAuthError('invalid_request', 'token is required');
  const now = ctx.now();
  // The prefix says what the token is, so the hint is only checked for being a known value.
  const hint = params.token_type_hint;
  if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
    throw new OAuthError('unsupported_token_type', `token_type_hint ${hint} is not supported`);
  }
  const kind = presentedTokenKind(params.token);
  if (kind === 'refreshToken') {
    const record = await findRefreshToken(ctx.store, params.token);
    if (!record || record.family.client_id !== client.id) return { revoked: 'nothing' };
    await ctx.store.transaction(async (tx) => {
      if (!(await tx.tokens.revokeFamily(record.family.id, 'revoked by client', now))) return;
      await recordAudit(tx, { type: 'token.revoked', userId: record.family.user_id, actor: `client:${client.id}`, clientId: client.id, ip: meta.ip, detail: { token_type: 'refresh_token', family_id: record.family.id } }, now);
      tx.afterCommit(() => ctx.metrics.revoked('client_request'));
    });
    return { revoked: 'family', familyId: record.family.id, userId: record.family.user_id };
  }
  if (kind === 'accessToken') {
    const active = await findActiveAccessToken(ctx.store, params.token, now);
    if (!active || active.family.client_id !== client.id) return { revoked: 'nothing' };
    await ctx.store.transaction(async (tx) => {
      await tx.tokens.revokeAccessToken(active.id, now);
      await recordAudit(tx, { type: 'token.revoked', userId: active.family.user_id, actor: `client:${client.id}`, clientId: client.id, ip: meta.ip, detail: { token_type: 'access_token', family_id: active.family.id } }, now);
      tx.afterCommit(() => ctx.metrics.revoked('client_request'));
    });
    return { revoked: 'access_token', familyId: active.family.id, userId: active.family.user_id };
  }
  return { revoked: 'nothing' };
}
