/**
 * The authorization_code grant (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3). A code is single use, short
 * lived, and bound to its client, redirect URI and PKCE challenge. Redeeming it twice fails and
 * revokes every token the first redemption produced.
 */
import { refuse } from '../../../store/index.js';
import { recordAudit } from '../../audit.js';
import { hashToken, isToken } from '../../crypto/token-formats.js';
import { OAuthError } from '../errors.js';
import { touchAuthorization } from '../authorizations.js';
import { narrowingOf } from '../narrowing.js';
import { verifyCodeVerifier } from '../pkce.js';
import { parseScope } from '../scopes.js';
import { createFamily, mintTokens } from '../tokens.js';
import { tokenResponse } from '../token-response.js';
import { findResource } from '../../resources/registry.js';
import type { GrantTypeHandler } from './handler.js';

/** Unknown, forged or another client's: one answer, so that it never tells a caller a code exists. */
const invalidCode = () => new OAuthError('invalid_grant', 'the authorization code is invalid');

export const authorizationCodeGrant: GrantTypeHandler<'code' | 'redirect_uri' | 'code_verifier' | 'resource'> = {
  parameters: ['code', 'redirect_uri', 'code_verifier', 'resource'],

  async handle(ctx, client, params, meta) {
    if (!params.code) throw new OAuthError('invalid_request', 'code is required');
    if (!isToken(params.code, 'authorizationCode')) throw invalidCode();
    const codeHash = hashToken(params.code);
    const now = ctx.now();

    return ctx.store.transaction(async (tx) => {
      const code = await tx.tokens.findCode(codeHash);
      if (!code || code.client_id !== client.id) return refuse(invalidCode());
      // Claim the code atomically: of any number of concurrent redemptions exactly one gets it.
      if (!(await tx.tokens.claimCode(codeHash, now))) {
        // A replayed code revokes what its first redemption issued, and is still refused.
        if (await tx.tokens.revokeFamily(code.family_id, 'authorization code replayed', now)) {
          await recordAudit(tx, { type: 'authorization_code.replay_detected', userId: code.user_id, actor: `client:${client.id}`, clientId: client.id, ip: meta.ip }, now);
          tx.afterCommit(() => ctx.metrics.revoked('authorization_code_replay'));
        }
        return refuse(new OAuthError('invalid_grant', 'the authorization code has already been used'));
      }
      if (code.expires_at <= now) return refuse(new OAuthError('invalid_grant', 'the authorization code has expired'));
      // OAuth 2.1 §4.1.3: redirect_uri may be left out only when the authorization request could leave it out.
      const redirectMatches = params.redirect_uri === undefined
        ? client.redirectUris.length === 1 && client.redirectUris[0] === code.redirect_uri
        : params.redirect_uri === code.redirect_uri;
      if (!redirectMatches) return refuse(new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request'));
      // RFC 8707 §2.2: a code not bound at authorization may be bound to one resource here.
      if (params.resource !== undefined && code.resource !== null && params.resource !== code.resource) {
        return refuse(new OAuthError('invalid_target', 'resource does not match the authorization request'));
      }
      if (params.resource !== undefined && !(await findResource(tx, ctx.config, params.resource))) {
        return refuse(new OAuthError('invalid_target', `unknown resource ${params.resource}`));
      }
      try {
        verifyCodeVerifier(params.code_verifier, code.code_challenge);
      } catch (error) {
        return refuse(error as OAuthError);
      }
      const authorization = await tx.authorizations.findById(code.authorization_id);
      if (!authorization) return refuse(new OAuthError('invalid_grant', 'the authorization behind this code was revoked'));
      const family = await createFamily(
        tx,
        {
          id: code.family_id,
          userId: code.user_id,
          clientId: client.id,
          authorizationId: authorization.id,
          scopes: parseScope(code.scope),
          narrowing: narrowingOf(authorization),
          resource: code.resource ?? params.resource ?? null,
          authTime: code.auth_time,
          amr: code.amr,
          acr: code.acr,
        },
        now,
      );
      const issued = await mintTokens(ctx, tx, family, client, family.scope);
      await touchAuthorization(tx, authorization.id, now);
      await recordAudit(tx, { type: 'token.issued', userId: code.user_id, actor: `client:${client.id}`, clientId: client.id, ip: meta.ip, detail: { scope: family.scope, family_id: family.id } }, now);
      const idToken = await ctx.idTokens.issue(tx, { family, client, accessToken: issued.accessToken, nonce: code.nonce });
      return tokenResponse(issued, family, idToken);
    });
  },
};
