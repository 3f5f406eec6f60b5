/** OpenID Connect standard claims (Core §5.1), released by granted scope (Core §5.4). */
import type { User } from '../../store/schema.js';

export const CLAIMS_SUPPORTED = ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'amr', 'acr', 'email', 'email_verified', 'name', 'given_name', 'family_name'];

export interface UserClaims {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
}

/** `sub` is the user's permanent id, never the email, which can change. */
export function userClaims(user: User, scopes: readonly string[]): UserClaims {
  const claims: UserClaims = { sub: user.id };
  if (scopes.includes('email')) {
    claims.email = user.email;
    claims.email_verified = user.email_verified === 1;
  }
  if (scopes.includes('profile') && user.name) {
    claims.name = user.name;
    // Only a plain "Given Family" name splits safely; anything else keeps just `name`.
    const parts = user.name.split(/\s+/);
    if (parts.length === 2) [claims.given_name, claims.family_name] = parts as [string, string];
  }
  return claims;
}
