/**
 * The authorization_code grant (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3). A code is single use, short
 * lived, and bound to its client, redirect URI and PKCE challenge. Redeeming it twice fails and
 * revokes every token the first redemption produced.
 */
import { recordAudit, type RequestMeta } from '../../audit.js';
import type { Context } from '../../context.js';
import type { OAuthClient } from '../../clients/client.js';
import { narrowingOf, touchGrant } from '../authorizations.js';
import { OAuthError } from '../errors.js';
import { verifyCodeVerifier } from '../pkce.js';
import { parseScope } from '../scopes.js';
import { createFamily, mintTokens, revokeFamily } from '../tokens.js';
import { tokenResponse, type TokenResponse } from '../token-response.js';
import { hashToken, isToken } from '../../crypto/token-formats.js';

/** Unknown, forged or another client's: one answer, so that it never tells a caller a code exists. */
const invalidCode = () => new OAuthError('invalid_grant', 'the authorization code is invalid');

export interface AuthorizationCodeParams {
  code?: string;
  redirect_uri?: string;
  code_verifier?: string;
  resource?: string;
}

export async function exchangeAuthorizationCode(
  ctx: Context,
  client: OAuthClient,
  params: AuthorizationCodeParams,
  meta: RequestMeta = {},
): Promise<TokenResponse> {
  if (!params.code) throw new OAuthError('invalid_request', 'code is required');
  if (!isToken(params.code, 'authorizationCode')) throw invalidCode();
  const codeHash = hashToken(params.code);
  const now = ctx.now();

  // A replayed code revokes what its first redemption issued (`familyRevoked`), and is still refused.
  const outcome = await ctx.transaction(async (trx): Promise<{ error: OAuthError; familyRevoked?: boolean } | { response: TokenResponse }> => {
    const code = await trx.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
    if (!code || code.client_id !== client.id) return { error: invalidCode() };
    // Claim the code atomically: of any number of concurrent redemptions exactly one updates the row.
    const claimed = await trx
      .updateTable('authorization_codes')
      .set({ consumed_at: now })
      .where('code_hash', '=', codeHash)
      .where('consumed_at', 'is', null)
      .executeTakeFirst();
    if (claimed.numUpdatedRows !== 1n) {
      const familyRevoked = await revokeFamily(trx, code.family_id, 'authorization code replayed', now);
      if (familyRevoked) {
        const event = { type: 'authorization_code.replay_detected', userId: code.user_id, actor: `client:${client.id}`, clientId: client.id, ip: meta.ip } as const;
        await recordAudit(trx, event, now);
      }
      return { error: new OAuthError('invalid_grant', 'the authorization code has already been used'), familyRevoked };
    }
    if (code.expires_at <= now) return { error: new OAuthError('invalid_grant', 'the authorization code has expired') };
    // OAuth 2.1 §4.1.3: redirect_uri may be left out only when the authorization request could leave it out.
    const redirectMatches = params.redirect_uri === undefined
      ? client.redirectUris.length === 1 && client.redirectUris[0] === code.redirect_uri
      : params.redirect_uri === code.redirect_uri;
    if (!redirectMatches) {
      return { error: new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request') };
    }
    // RFC 8707 §2.2: a code not bound at authorization may be bound to one resource here.
    if (params.resource !== undefined && code.resource !== null && params.resource !== code.resource) {
      return { error: new OAuthError('invalid_target', 'resource does not match the authorization request') };
    }
    if (params.resource !== undefined && !ctx.config.resources.includes(params.resource)) {
      return { error: new OAuthError('invalid_target', `unknown resource ${params.resource}`) };
    }
    const resource = code.resource ?? params.resource ?? null;
    try {
      verifyCodeVerifier(params.code_verifier, code.code_challenge);
    } catch (error) {
      return { error: error as OAuthError };
    }
    const grant = await trx.selectFrom('grants').selectAll().where('id', '=', code.grant_id).executeTakeFirst();
    if (!grant) return { error: new OAuthError('invalid_grant', 'the grant behind this code was revoked') };
    const family = await createFamily(
      trx,
      {
        id: code.family_id,
        userId: code.user_id,
        clientId: client.id,
        grantId: grant.id,
        scopes: parseScope(code.scope),
        narrowing: narrowingOf(grant),
        resource,
        authTime: code.auth_time,
        amr: code.amr,
        acr: code.acr,
      },
      now,
    );
    const issued = await mintTokens(ctx, trx, family, client, family.scope);
    await touchGrant(trx, grant.id, now);
    await recordAudit(trx, { type: 'token.issued', userId: code.user_id, actor: `client:${client.id}`, clientId: client.id, ip: meta.ip, detail: { scope: family.scope, family_id: family.id } }, now);
    const idToken = await ctx.idTokens.issue(trx, { family, client, accessToken: issued.accessToken, nonce: code.nonce });
    return { response: tokenResponse(issued, family, idToken) };
  });
  if ('error' in outcome) {
    if (outcome.familyRevoked) ctx.metrics.revoked('authorization_code_replay');
    throw outcome.error;
  }
  return outcome.response;
}
