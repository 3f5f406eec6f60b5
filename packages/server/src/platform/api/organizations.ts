/** Organization and project reads, as the API presents them. */
import type { Repositories } from '../../store/index.js';
import type { Organization, Project } from '../../store/schema.js';
import { grantedOrganizationIds } from '../resource-server/access.js';
import type { Principal } from '../resource-server/principal.js';

export function presentOrganization(row: Organization) {
  return { id: row.id, name: row.name, created_at: new Date(row.created_at).toISOString() };
}

export function presentProject(row: Project) {
  return { id: row.id, organization_id: row.organization_id, name: row.name, created_at: new Date(row.created_at).toISOString() };
}

/**
 * The organizations a credential may list: the user's (all access), the granted ones
 * (organization access), or those owning the granted projects (project access: listing what
 * it was granted is the one organization-level read such a token keeps).
 */
export async function listVisibleOrganizations(store: Repositories, principal: Principal): Promise<Organization[]> {
  let ids = grantedOrganizationIds(principal);
  if (principal.narrowing.accessLevel === 'project') {
    const owners = new Set((await store.organizations.organizationsOfProjects(principal.narrowing.projectIds)).values());
    ids = ids.filter((id) => owners.has(id));
  }
  return store.organizations.list(ids);
}

export function listProjects(store: Repositories, organizationId: string): Promise<Project[]> {
  return store.organizations.projectsOf([organizationId]);
}
