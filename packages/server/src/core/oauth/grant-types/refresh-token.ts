/**
 * The refresh_token grant with rotation (OAuth 2.1 §4.3, RFC 9700 §4.14.2).
 *
 * Every use rotates: the presented token is retired and a new pair is issued. Clients that retry a
 * lost response, or refresh from several threads at once, present the retired token again; within
 * the grace window, and as long as the successor has not been used, they receive the very same
 * successor pair, so nothing breaks. The retired token's row names its successor, and the
 * successor's row keeps the response sealed under a key derived from the retired token, so the
 * database never holds a usable token. A reuse after the window, or after the successor was itself
 * rotated (the client holding the chain has moved on, so this copy is someone else's), means the
 * token was copied: the whole family is revoked.
 */
import { recordAudit, type RequestMeta } from '../../audit.js';
import type { Context } from '../../context.js';
import { affectedRows, prepareQuery } from '../../../store/prepared.js';
import type { OAuthClient } from '../../clients/client.js';
import { OAuthError } from '../errors.js';
import { boundScopes, formatScope, parseScope, scopeSatisfies, scopesCovered } from '../scopes.js';
import { seal, unseal } from '../../crypto/seal.js';
import { touchGrant } from '../authorizations.js';
import { findRefreshToken, findSuccessor, generateTokenPair, revokeFamily, storeTokenPair, type RefreshTokenRecord } from '../tokens.js';
import { tokenRowId } from '../../crypto/token-formats.js';
import { tokenResponse, type TokenResponse } from '../token-response.js';

const SUCCESSOR = 'refresh successor';

/** Of any number of concurrent claims on one token, exactly one changes the row. */
const claimRotation = prepareQuery((db, p: { id: string; now: number; successorId: string }) =>
  db.updateTable('refresh_tokens').set({ rotated_at: p.now, successor_id: p.successorId }).where('id', '=', p.id).where('rotated_at', 'is', null),
);

export interface RefreshTokenParams {
  refresh_token?: string;
  scope?: string;
  resource?: string;
}

export type RefreshOutcome =
  | { kind: 'rotated'; response: TokenResponse; record: RefreshTokenRecord }
  | { kind: 'replayed-in-grace'; response: TokenResponse; record: RefreshTokenRecord }
  /** `familyRevoked`: this request revoked the family (a concurrent one may have done it first). */
  | { kind: 'reuse-detected'; record: RefreshTokenRecord; familyRevoked: boolean };

export async function refreshTokens(ctx: Context, client: OAuthClient, params: RefreshTokenParams, meta: RequestMeta = {}): Promise<TokenResponse> {
  const outcome = await rotateRefreshToken(ctx, client, params, meta);
  if (outcome.kind === 'reuse-detected') {
    throw new OAuthError('invalid_grant', 'the refresh token was already used; its token family has been revoked');
  }
  return outcome.response;
}

export async function rotateRefreshToken(
  ctx: Context,
  client: OAuthClient,
  params: RefreshTokenParams,
  meta: RequestMeta = {},
): Promise<RefreshOutcome> {
  const presented = params.refresh_token;
  if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required');
  const now = ctx.now();
  const invalid = () => new OAuthError('invalid_grant', 'the refresh token is invalid, expired or revoked');

  const outcome = await ctx.transaction(async (trx): Promise<RefreshOutcome | OAuthError> => {
    const record = await findRefreshToken(trx, presented);
    if (!record || record.family.client_id !== client.id) return invalid();
    if (record.family.revoked_at !== null || record.revokedAt !== null || record.expiresAt <= now) return invalid();
    if (params.resource !== undefined && params.resource !== record.family.resource) {
      return new OAuthError('invalid_target', 'resource does not match the original grant');
    }
    const familyScopes = parseScope(record.family.scope);
    const asked = params.scope === undefined ? undefined : parseScope(params.scope);
    if (asked && (asked.length === 0 || !scopesCovered(familyScopes, asked))) {
      return new OAuthError('invalid_scope', 'the requested scope exceeds the original grant');
    }
    // The client's scope ceiling as it is now bounds every refresh: a scope removed from it since the
    // grant is refused when asked for and left out otherwise.
    const ceiling = client.scopeCeiling;
    const beyondCeiling = ceiling ? (asked ?? []).filter((scope) => !scopeSatisfies(ceiling, scope)) : [];
    if (beyondCeiling.length) return new OAuthError('invalid_scope', `scope not allowed for this client: ${beyondCeiling.join(' ')}`);
    const requested = asked ?? (ceiling ? boundScopes(familyScopes, ceiling) : familyScopes);
    if (requested.length === 0) return new OAuthError('invalid_scope', 'none of the scopes granted is allowed for this client any more');

    let current = record;
    if (record.rotatedAt === null) {
      // The successor is made first so that claiming the rotation and naming the successor is one
      // atomic UPDATE: of any number of concurrent requests for this token, exactly one updates the row.
      const pair = generateTokenPair(ctx, client, formatScope(requested));
      const claimed = await affectedRows(claimRotation(trx, { id: record.id, now, successorId: tokenRowId(pair.issued.refreshToken) }));
      if (claimed === 1) {
        const idToken = await ctx.idTokens.issue(trx, { family: record.family, client, accessToken: pair.issued.accessToken, nonce: null });
        const response = tokenResponse(pair.issued, record.family, idToken);
        await storeTokenPair(trx, record.family, pair, now, seal(presented, SUCCESSOR, JSON.stringify(response)));
        await touchGrant(trx, record.family.grant_id, now);
        await recordAudit(trx, { type: 'token.refreshed', userId: record.family.user_id, actor: `client:${client.id}`, clientId: client.id, ip: meta.ip, detail: { family_id: record.family.id } }, now);
        return { kind: 'rotated', response, record };
      }
      // A concurrent request committed its rotation first.
      current = (await findRefreshToken(trx, presented)) ?? record;
    }

    // Already rotated: a retry within the grace window gets the same successor, unless that
    // successor has been used since; otherwise this is reuse.
    const rotatedAt = current.rotatedAt ?? now;
    const withinGrace = now - rotatedAt <= ctx.config.refreshReuseGraceSeconds * 1000;
    const successor = withinGrace && current.successorId ? await findSuccessor(trx, current.successorId) : undefined;
    if (successor?.responseSealed && successor.rotatedAt === null) {
      const response = JSON.parse(unseal(presented, SUCCESSOR, successor.responseSealed)) as TokenResponse;
      // The answer may be narrower than this retry asks (its scope says so), never wider.
      if (!scopesCovered(requested, parseScope(response.scope))) {
        return new OAuthError('invalid_scope', `a retry of a refresh token already used must not ask for less than the first request got (${response.scope})`);
      }
      return { kind: 'replayed-in-grace', response, record: current };
    }
    const familyRevoked = await revokeFamily(trx, record.family.id, 'refresh token reused after rotation', now);
    if (familyRevoked) {
      const event = { type: 'refresh_token.reuse_detected', userId: record.family.user_id, actor: `client:${client.id}`, clientId: client.id, ip: meta.ip, detail: { family_id: record.family.id } } as const;
      await recordAudit(trx, event, now);
    }
    return { kind: 'reuse-detected', record: current, familyRevoked };
  });
  if (outcome instanceof OAuthError) throw outcome;
  if (outcome.kind === 'reuse-detected') {
    ctx.metrics.refreshTokenReuseDetected();
    if (outcome.familyRevoked) ctx.metrics.revoked('refresh_token_reuse');
  }
  return outcome;
}
