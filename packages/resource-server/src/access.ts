/**
 * What a principal may do, by the same rules as Tessera's own platform API: `<object>:write`
 * satisfies `<object>:read`, and a grant narrowed to organizations or projects reaches only those.
 * Membership (is the user still in that organization?) is the resource server's own data to check.
 */
import { BearerError } from './errors.js';
import type { Principal } from './principal.js';

/** True when `held` satisfies `needed`: the same scope, or the write scope of a read scope. */
export function scopeSatisfies(held: Iterable<string>, needed: string): boolean {
  // A principal's few scopes are an array: searching it costs less than building a Set per request.
  const scopes = held instanceof Set || Array.isArray(held) ? held : [...held];
  return holds(scopes, needed) || (needed.endsWith(':read') && holds(scopes, `${needed.slice(0, -':read'.length)}:write`));
}

function holds(scopes: ReadonlySet<string> | readonly string[], scope: string): boolean {
  return scopes instanceof Set ? scopes.has(scope) : (scopes as readonly string[]).includes(scope);
}

const denied = (description: string) => new BearerError(403, 'access_denied', description, { 'cache-control': 'no-store' });

/** May the principal act on this organization as a whole? Throws BearerError `access_denied` (403) if not. */
export function checkOrganizationAccess(principal: Principal, organizationId: string): void {
  if (principal.accessLevel === 'project') {
    throw denied('this token is limited to specific projects and cannot use organization-level endpoints');
  }
  if (principal.accessLevel === 'organization' && !principal.organizationIds.includes(organizationId)) {
    throw denied(`this token was not granted access to organization ${organizationId}`);
  }
}

/** May the principal act on this project? Throws BearerError `access_denied` (403) if not. */
export function checkProjectAccess(principal: Principal, project: { id: string; organizationId: string }): void {
  if (principal.accessLevel === 'organization' && !principal.organizationIds.includes(project.organizationId)) {
    throw denied(`this token was not granted access to the organization that owns project ${project.id}`);
  }
  if (principal.accessLevel === 'project' && !principal.projectIds.includes(project.id)) {
    throw denied(`this token was not granted access to project ${project.id}`);
  }
}
