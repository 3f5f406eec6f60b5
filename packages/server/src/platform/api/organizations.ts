/** Organization and project reads, as the API presents them. */
import type { Kysely } from 'kysely';
import type { Principal } from '../../http/resource-server/principal.js';
import { grantedOrganizationIds } from '../../http/resource-server/access.js';
import type { Database, Organization, Project } from '../../store/schema.js';

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
export async function listVisibleOrganizations(db: Kysely<Database>, principal: Principal): Promise<Organization[]> {
  let ids = grantedOrganizationIds(principal);
  if (principal.narrowing.accessLevel === 'project') {
    if (principal.narrowing.projectIds.length === 0) return [];
    const owning = await db.selectFrom('projects').select('organization_id').where('id', 'in', principal.narrowing.projectIds).execute();
    const owners = new Set(owning.map((row) => row.organization_id));
    ids = ids.filter((id) => owners.has(id));
  }
  if (ids.length === 0) return [];
  return db.selectFrom('organizations').selectAll().where('id', 'in', ids).orderBy('name').execute();
}

export function listProjects(db: Kysely<Database>, organizationId: string): Promise<Project[]> {
  return db.selectFrom('projects').selectAll().where('organization_id', '=', organizationId).orderBy('name').execute();
}
