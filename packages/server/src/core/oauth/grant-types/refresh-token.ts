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
import { refuse } from '../../../store/index.js';
import type { RequestMeta } from '../../audit.js';
import { recordAudit } from '../../audit.js';
import type { OAuthClient } from '../../clients/client.js';
import type { Context } from '../../context.js';
import { seal, unseal } from '../../crypto/seal.js';
import { tokenRowId } from '../../crypto/token-formats.js';
import { touchAuthorization } from '../authorizations.js';
import { OAuthError } from '../errors.js';
import { boundScopes, formatScope, parseScope, scopeSatisfies, scopesCovered } from '../scopes.js';
import { findRefreshToken, generateTokenPair, storeTokenPair, type RefreshTokenRecord } from '../tokens.js';
import { tokenResponse, type TokenResponse } from '../token-response.js';
import type { GrantTypeHandler } from './handler.js';

const SUCCESSOR = 'refresh successor';

interface RefreshTokenParams {
  refresh_token?: string;
  scope?: string;
  resource?: string;
}

type RefreshOutcome =
  | { kind: 'rotated'; response: TokenResponse; record: RefreshTokenRecord }
  | { kind: 'replayed-in-grace'; response: TokenResponse; record: RefreshTokenRecord }
  | { kind: 'reuse-detected'; record: RefreshTokenRecord };

export const refreshTokenGrant: GrantTypeHandler<keyof RefreshTokenParams> = {
  parameters: ['refresh_token', 'scope', 'resource'],

  async handle(ctx, client, params, meta) {
    const outcome = await rotateRefreshToken(ctx, client, params, meta);
    if (outcome.kind === 'reuse-detected') {
      throw new OAuthError('invalid_grant', 'the refresh token was already used; its token family has been revoked');
    }
    return outcome.response;
  },
};

/** Rotates a refresh token, and says how: reuse is a refusal whose writes (the revoked family) must commit. */
async function rotateRefreshToken(ctx: Context, client: OAuthClient, params: RefreshTokenParams, meta: RequestMeta = {}): Promise<RefreshOutcome> {
  const presented = params.refresh_token;
  if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required');
  const now = ctx.now();
  const invalid = () => refuse(new OAuthError('invalid_grant', 'the refresh token is invalid, expired or revoked'));

  return ctx.store.transaction(async (tx) => {
    const record = await findRefreshToken(tx, presented);
    if (!record || record.family.client_id !== client.id) return invalid();
    if (record.family.revoked_at !== null || record.revokedAt !== null || record.expiresAt <= now) return invalid();
    if (params.resource !== undefined && params.resource !== record.family.resource) {
      return refuse(new OAuthError('invalid_target', 'resource does not match the original grant'));
    }
    const familyScopes = parseScope(record.family.scope);
    const asked = params.scope === undefined ? undefined : parseScope(params.scope);
    if (asked && (asked.length === 0 || !scopesCovered(familyScopes, asked))) {
      return refuse(new OAuthError('invalid_scope', 'the requested scope exceeds the original grant'));
    }
    // The client's scope ceiling as it is now bounds every refresh: a scope removed from it since the
    // grant is refused when asked for and left out otherwise.
    const ceiling = client.scopeCeiling;
    const beyondCeiling = ceiling ? (asked ?? []).filter((scope) => !scopeSatisfies(ceiling, scope)) : [];
    if (beyondCeiling.length) return refuse(new OAuthError('invalid_scope', `scope not allowed for this client: ${beyondCeiling.join(' ')}`));
    const requested = asked ?? (ceiling ? boundScopes(familyScopes, ceiling) : familyScopes);
    if (requested.length === 0) return refuse(new OAuthError('invalid_scope', 'none of the scopes granted is allowed for this client any more'));

    let current = record;
    if (record.rotatedAt === null) {
      // The successor is made first so that claiming the rotation and naming the successor is one
      // atomic update: of any number of concurrent requests for this token, exactly one makes it.
      const pair = await generateTokenPair(ctx, tx, record.family, client, formatScope(requested));
      if (await tx.tokens.claimRotation(record.id, tokenRowId(pair.issued.refreshToken), now)) {
        const idToken = await ctx.idTokens.issue(tx, { family: record.family, client, accessToken: pair.issued.accessToken, nonce: null });
        const response = tokenResponse(pair.issued, record.family, idToken);
        await storeTokenPair(tx, record.family, pair, now, seal(presented, SUCCESSOR, JSON.stringify(response)));
        await touchAuthorization(tx, record.family.authorization_id, now);
        await recordAudit(tx, { type: 'token.refreshed', userId: record.family.user_id, actor: `client:${client.id}`, clientId: client.id, ip: meta.ip, detail: { family_id: record.family.id } }, now);
        return { kind: 'rotated', response, record };
      }
      // A concurrent request committed its rotation first.
      current = (await findRefreshToken(tx, presented)) ?? record;
    }

    // Already rotated: a retry within the grace window gets the same successor, unless that
    // successor has been used since; otherwise this is reuse.
    const rotatedAt = current.rotatedAt ?? now;
    const withinGrace = now - rotatedAt <= ctx.config.refreshReuseGraceSeconds * 1000;
    const successor = withinGrace && current.successorId ? await tx.tokens.findSuccessor(current.successorId) : undefined;
    if (successor?.response_sealed && successor.rotated_at === null) {
      const response = JSON.parse(unseal(presented, SUCCESSOR, successor.response_sealed)) as TokenResponse;
      // The answer may be narrower than this retry asks (its scope says so), never wider.
      if (!scopesCovered(requested, parseScope(response.scope))) {
        return refuse(new OAuthError('invalid_scope', `a retry of a refresh token already used must not ask for less than the first request got (${response.scope})`));
      }
      return { kind: 'replayed-in-grace', response, record: current };
    }
    tx.afterCommit(() => ctx.metrics.refreshTokenReuseDetected());
    if (await tx.tokens.revokeFamily(record.family.id, 'refresh token reused after rotation', now)) {
      await recordAudit(tx, { type: 'refresh_token.reuse_detected', userId: record.family.user_id, actor: `client:${client.id}`, clientId: client.id, ip: meta.ip, detail: { family_id: record.family.id } }, now);
      tx.afterCommit(() => ctx.metrics.revoked('refresh_token_reuse'));
    }
    return { kind: 'reuse-detected', record: current };
  });
}
