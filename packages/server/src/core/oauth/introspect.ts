/**
 * Token introspection (RFC 7662). The caller authenticates as a client and sees only its own
 * tokens, or as a registered resource server and sees only the access tokens whose audience is its
 * resource (RFC 7662 §4): any other token, like an unknown one, is `{ "active": false }`. JWT
 * access tokens are introspected like opaque ones.
 */
import type { Context } from '../context.js';
import type { TokenFamily } from '../../store/schema.js';
import type { OAuthClient } from '../clients/client.js';
import type { ResourceServer } from '../../store/schema.js';
import { narrowingOf } from './narrowing.js';
import { OAuthError } from './errors.js';
import { findActiveAccessToken, findRefreshToken, presentedTokenKind } from './tokens.js';

export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id: string;
      sub: string;
      exp: number;
      iat: number;
      iss: string;
      token_type: 'Bearer' | 'refresh_token';
      aud?: string;
      access_level: string;
      scoped_organizations: string[];
      scoped_projects: string[];
    };

const INACTIVE = { active: false } as const;

/** Who asks: a client (its own tokens) or a registered resource server (the access tokens for its resource). */
export type IntrospectionCaller = OAuthClient | { resourceServer: ResourceServer };

function mayIntrospect(caller: IntrospectionCaller, family: TokenFamily, tokenType: 'Bearer' | 'refresh_token'): boolean {
  if (!('resourceServer' in caller)) return family.client_id === caller.id;
  // A refresh token is the client's, never presented to a resource server.
  return tokenType === 'Bearer' && family.resource === caller.resourceServer.uri;
}

export async function introspectToken(ctx: Context, caller: IntrospectionCaller, params: { token?: string }): Promise<IntrospectionResponse> {
  const { token } = params;
  if (!token) throw new OAuthError('invalid_request', 'token is required');
  const now = ctx.now();
  const kind = presentedTokenKind(token);
  let found: { scope: string; expiresAt: number; createdAt: number; family: TokenFamily; tokenType: 'Bearer' | 'refresh_token' } | undefined;
  if (kind === 'accessToken') {
    const active = await ctx.store.reads((store) => findActiveAccessToken(store, token, now));
    if (active) found = { ...active, tokenType: 'Bearer' };
  } else if (kind === 'refreshToken') {
    const record = await ctx.store.reads((store) => findRefreshToken(store, token));
    const usable = record && record.revokedAt === null && record.family.revoked_at === null && record.expiresAt > now
      && (record.rotatedAt === null || now - record.rotatedAt <= ctx.config.refreshReuseGraceSeconds * 1000);
    if (usable) found = { scope: record.family.scope, expiresAt: record.expiresAt, createdAt: record.createdAt, family: record.family, tokenType: 'refresh_token' };
  }
  if (!found || !mayIntrospect(caller, found.family, found.tokenType)) return INACTIVE;
  const narrowing = narrowingOf(found.family);
  return {
    active: true,
    scope: found.scope,
    client_id: found.family.client_id,
    sub: found.family.user_id,
    exp: Math.floor(found.expiresAt / 1000),
    iat: Math.floor(found.createdAt / 1000),
    iss: ctx.config.issuer,
    token_type: found.tokenType,
    ...(found.family.resource ? { aud: found.family.resource } : {}),
    access_level: narrowing.accessLevel,
    scoped_organizations: narrowing.organizationIds,
    scoped_projects: narrowing.projectIds,
  };
}
