/**
 * What a principal may do, by the same rules as Tessera's own platform API: `<object>:write`
 * satisfies `<object>:read`, and a grant narrowed to organizations or projects reaches only those.
 * Membership (is the user still in that organization?) is the resource server's own data to check.
 */
import { BearerError } from './errors.js';
import type { Principal } from './principal.js';

/** True when `held` satisfies `needed`: the same scope, or the write scope of a read scope. */
export function scopeSatisfies(held: Iterable<string>, needed: string): boolean {
  const set: ReadonlySet<string> = held instanceof Set ? held : new Set(held);
  if (set.has(needed)) return true;
  return needed.endsWith(':read') && set.has(`${needed.slice(0, -':read'.length)}:write`);
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
