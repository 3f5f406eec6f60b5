/**
 * Who is calling a resource server: the user behind an OAuth access token (`pha_` or a JWT) or a personal
 * API key (`phx_`), with the scopes and organization/project narrowing the credential carries.
 * Both kinds pass through the same rules.
 */
import type { Context } from '../../core/context.js';
import { touchAuthorization } from '../../core/oauth/authorizations.js';
import { narrowingOf, type Narrowing } from '../../core/oauth/narrowing.js';
import { parseScope } from '../../core/oauth/scopes.js';
import { findActiveAccessToken, presentedTokenKind } from '../../core/oauth/tokens.js';
import { parseAmr } from '../../core/oidc/acr.js';
import { findActiveApiKey, touchApiKey } from '../api-keys.js';

export interface Principal {
  kind: 'access_token' | 'api_key';
  userId: string;
  /** The app acting for the user; null for a personal API key. */
  clientId: string | null;
  /** Held once as a set: every protected request checks it. */
  scopes: ReadonlySet<string>;
  narrowing: Narrowing;
  /** The resource the token was bound to (RFC 8707); null when unbound. */
  audience: string | null;
  /** Epoch ms; null for API keys, which live until revoked. */
  expiresAt: number | null;
  /** Organizations the user belongs to, read with the credential. */
  organizationIds: Set<string>;
  /**
   * Of those, the ones whose data this credential may not read because the organization requires
   * two-factor sign-in and the token comes from a password-only sign-in. Personal API keys are not
   * OAuth and are not held to it.
   */
  twoFactorRequiredBy: Set<string>;
}

/** Loads the principal a credential stands for, or undefined when it is unknown, expired or revoked. */
export async function loadPrincipal(ctx: Context, credential: string): Promise<Principal | undefined> {
  const now = ctx.now();
  const kind = presentedTokenKind(credential);
  let principal: Omit<Principal, 'organizationIds' | 'twoFactorRequiredBy'> | undefined;
  let twoFactorSignIn = true;
  if (kind === 'accessToken') {
    const token = await ctx.store.reads((store) => findActiveAccessToken(store, credential, now));
    if (!token) return undefined;
    const { family } = token;
    twoFactorSignIn = parseAmr(family.amr).includes('otp');
    principal = { kind: 'access_token', userId: family.user_id, clientId: family.client_id, scopes: new Set(parseScope(token.scope)), narrowing: narrowingOf(family), audience: family.resource, expiresAt: token.expiresAt };
    await touchAuthorization(ctx.store, family.authorization_id, now);
  } else if (kind === 'personalApiKey') {
    const key = await ctx.store.reads((store) => findActiveApiKey(store, credential));
    if (!key) return undefined;
    principal = { kind: 'api_key', userId: key.user_id, clientId: null, scopes: new Set(parseScope(key.scope)), narrowing: narrowingOf(key), audience: null, expiresAt: null };
    await touchApiKey(ctx.store, key, now);
  } else {
    return undefined;
  }
  const { userId } = principal;
  const memberships = await ctx.store.reads((store) => store.organizations.membershipFlags(userId));
  return {
    ...principal,
    organizationIds: new Set(memberships.map((m) => m.organization_id)),
    twoFactorRequiredBy: new Set(twoFactorSignIn ? [] : memberships.filter((m) => m.require_two_factor === 1).map((m) => m.organization_id)),
  };
}
