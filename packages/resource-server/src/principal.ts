/**
 * Who a valid token speaks for, in one shape whether it was introspected (RFC 7662) or verified as a
 * JWT (RFC 9068): both carry the same claims, and Tessera's narrowing of the grant.
 */

export type AccessLevel = 'all' | 'organization' | 'project';

export interface Principal {
  /** The user the token acts for. */
  sub: string;
  /** The app the user authorized. */
  clientId: string;
  scopes: string[];
  /** How far the user narrowed the grant on the consent page. */
  accessLevel: AccessLevel;
  /** The organizations an `organization`-level grant covers (empty otherwise). */
  organizationIds: string[];
  /** The projects a `project`-level grant covers (empty otherwise). */
  projectIds: string[];
  /** When the token expires, in epoch milliseconds. */
  expiresAt: number;
}

const ACCESS_LEVELS: readonly unknown[] = ['all', 'organization', 'project'];

function stringList(value: unknown): string[] | undefined {
  if (value === undefined) return [];
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
}

/** The principal the claims describe, or why they describe none. */
export function principalFromClaims(claims: Record<string, unknown>): Principal | string {
  const { sub, client_id, scope, exp, access_level } = claims;
  if (typeof sub !== 'string' || !sub || typeof client_id !== 'string' || !client_id) return 'the token names no subject or client';
  if (typeof exp !== 'number') return 'the token has no expiry';
  if (scope !== undefined && typeof scope !== 'string') return 'the token scope is not a string';
  // Tessera states the narrowing on every token; guessing "all" for a missing one would widen it.
  if (!ACCESS_LEVELS.includes(access_level)) return 'the token does not state its access level';
  const organizationIds = stringList(claims.scoped_organizations);
  const projectIds = stringList(claims.scoped_projects);
  if (!organizationIds || !projectIds) return 'the token narrowing is malformed';
  return {
    sub,
    clientId: client_id,
    scopes: [...new Set((scope ?? '').split(' ').filter(Boolean))],
    accessLevel: access_level as AccessLevel,
    organizationIds,
    projectIds,
    expiresAt: exp * 1000,
  };
}
