/**
 * The rules every protected route applies, as plain functions: a scope check (`:write` satisfies
 * `:read`) and a resource check against both the user's current memberships and the credential's
 * organization/project narrowing.
 */
import { OAuthError } from '../../core/oauth/errors.js';
import { scopeSatisfies } from '../../core/oauth/scopes.js';
import type { Principal } from './principal.js';

/** A refusal that is not about the token itself: 403 (narrowed out) or 404 (not the user's). */
export class ResourceAccessError extends Error {
  constructor(
    readonly status: 403 | 404,
    readonly code: 'access_denied' | 'not_found',
    readonly description: string,
  ) {
    super(description);
  }
}

export function requireScope(principal: Principal, required: string): void {
  if (!scopeSatisfies(principal.scopes, required)) {
    throw new OAuthError('insufficient_scope', `this request needs the ${required} scope`);
  }
}

const notFound = (what: string) => new ResourceAccessError(404, 'not_found', `${what} does not exist or you are not a member of it`);

/** An organization that requires two-factor sign-in keeps its data from tokens of a password-only sign-in. */
function checkTwoFactorRequirement(principal: Principal, organizationId: string): void {
  if (principal.twoFactorRequiredBy.has(organizationId)) {
    throw new ResourceAccessError(403, 'access_denied', `organization ${organizationId} requires two-factor sign-in: the user must sign in with two-factor and authorize this app again`);
  }
}

/** May the principal act on this organization as a whole? */
export function checkOrganizationAccess(principal: Principal, organizationId: string): void {
  if (!principal.organizationIds.has(organizationId)) throw notFound(`organization ${organizationId}`);
  checkTwoFactorRequirement(principal, organizationId);
  const { narrowing } = principal;
  if (narrowing.accessLevel === 'project') {
    throw new ResourceAccessError(403, 'access_denied', 'this token is limited to specific projects and cannot use organization-level endpoints');
  }
  if (narrowing.accessLevel === 'organization' && !narrowing.organizationIds.includes(organizationId)) {
    throw new ResourceAccessError(403, 'access_denied', `this token was not granted access to organization ${organizationId}`);
  }
}

/** May the principal act on this project? */
export function checkProjectAccess(principal: Principal, project: { id: string; organization_id: string }): void {
  if (!principal.organizationIds.has(project.organization_id)) throw notFound(`project ${project.id}`);
  checkTwoFactorRequirement(principal, project.organization_id);
  const { narrowing } = principal;
  if (narrowing.accessLevel === 'organization' && !narrowing.organizationIds.includes(project.organization_id)) {
    throw new ResourceAccessError(403, 'access_denied', `this token was not granted access to the organization that owns project ${project.id}`);
  }
  if (narrowing.accessLevel === 'project' && !narrowing.projectIds.includes(project.id)) {
    throw new ResourceAccessError(403, 'access_denied', `this token was not granted access to project ${project.id}`);
  }
}

/**
 * Of the user's organizations, those an organization-narrowed credential may list; all others
 * otherwise; never one that requires a two-factor sign-in the credential lacks.
 */
export function grantedOrganizationIds(principal: Principal): string[] {
  const mine = [...principal.organizationIds].filter((id) => !principal.twoFactorRequiredBy.has(id));
  return principal.narrowing.accessLevel === 'organization' ? mine.filter((id) => principal.narrowing.organizationIds.includes(id)) : mine;
}
