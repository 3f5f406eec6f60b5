/** The UserInfo endpoint's answer (OpenID Connect Core §5.3): the token's user, claims by scope. */
import type { Context } from '../context.js';
import { OAuthError } from '../oauth/errors.js';
import { parseScope } from '../oauth/scopes.js';
import { findActiveAccessToken } from '../oauth/tokens.js';
import { userClaims, type UserClaims } from './claims.js';

export async function userInfo(ctx: Context, accessToken: string): Promise<UserClaims> {
  const now = ctx.now();
  const token = await ctx.store.reads((store) => findActiveAccessToken(store, accessToken, now));
  if (!token) throw new OAuthError('invalid_token', 'the access token is invalid, expired or revoked');
  const scopes = parseScope(token.scope);
  if (!scopes.includes('openid')) throw new OAuthError('insufficient_scope', 'userinfo needs a token granted the openid scope');
  const userId = token.family.user_id;
  const user = await ctx.store.reads((store) => store.accounts.findUser(userId));
  if (!user) throw new OAuthError('invalid_token', 'the user behind this token no longer exists');
  return userClaims(user, scopes);
}
