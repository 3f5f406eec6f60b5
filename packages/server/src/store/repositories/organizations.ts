/** Organizations, their members (owner / admin / member) and the projects they own. */
import type { Kysely } from 'kysely';
import { prepareQuery } from '../prepared.js';
import type { Database, MemberRole, MembershipsTable, Organization, Project } from '../schema.js';

export type OrganizationWithRole = Organization & { role: MemberRole };

const selectMembershipFlags = prepareQuery((db, p: { userId: string }) =>
  db
    .selectFrom('memberships')
    .innerJoin('organizations', 'organizations.id', 'memberships.organization_id')
    .select(['memberships.organization_id', 'organizations.require_two_factor'])
    .where('memberships.user_id', '=', p.userId),
);

export class OrganizationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(organization: Organization): Promise<void> {
    await this.db.insertInto('organizations').values(organization).execute();
  }

  find(id: string): Promise<Organization | undefined> {
    return this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Every organization, by name. */
  listAll(): Promise<Organization[]> {
    return this.db.selectFrom('organizations').selectAll().orderBy('name').orderBy('id').execute();
  }

  /** An organization's members with their addresses and roles, by address. */
  members(organizationId: string): Promise<Array<{ user_id: string; email: string; role: MemberRole; created_at: number }>> {
    return this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['memberships.user_id', 'users.email', 'memberships.role', 'memberships.created_at'])
      .where('memberships.organization_id', '=', organizationId)
      .orderBy('users.email')
      .execute();
  }

  /** Every project, by organization then name. */
  listProjects(): Promise<Project[]> {
    return this.db.selectFrom('projects').selectAll().orderBy('organization_id').orderBy('name').execute();
  }

  /** By name, ids in `ids`. */
  list(ids: readonly string[]): Promise<Organization[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('organizations').selectAll().where('id', 'in', ids).orderBy('name').execute();
  }

  async setRequireTwoFactor(id: string, required: boolean): Promise<void> {
    await this.db.updateTable('organizations').set({ require_two_factor: required ? 1 : 0 }).where('id', '=', id).execute();
  }

  async insertMembership(row: MembershipsTable): Promise<void> {
    await this.db.insertInto('memberships').values(row).execute();
  }

  async roleOf(userId: string, organizationId: string): Promise<MemberRole | undefined> {
    const row = await this.db.selectFrom('memberships').select('role').where('user_id', '=', userId).where('organization_id', '=', organizationId).executeTakeFirst();
    return row?.role;
  }

  /** The organizations a user belongs to, by name, with the user's role; `roles` keeps only those. */
  ofUser(userId: string, roles?: readonly MemberRole[]): Promise<OrganizationWithRole[]> {
    let query = this.db
      .selectFrom('memberships')
      .innerJoin('organizations', 'organizations.id', 'memberships.organization_id')
      .selectAll('organizations')
      .select('memberships.role')
      .where('memberships.user_id', '=', userId);
    if (roles) query = query.where('memberships.role', 'in', roles);
    return query.orderBy('organizations.name').execute();
  }

  /** The hot path's read: each organization of a user, and whether it requires two-factor sign-in. */
  async membershipFlags(userId: string): Promise<Array<{ organization_id: string; require_two_factor: 0 | 1 }>> {
    return (await selectMembershipFlags(this.db, { userId })).rows;
  }

  async insertProject(project: Project): Promise<void> {
    await this.db.insertInto('projects').values(project).execute();
  }

  findProject(id: string): Promise<Project | undefined> {
    return this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The projects of the organizations, by name. */
  projectsOf(organizationIds: readonly string[]): Promise<Project[]> {
    if (organizationIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('projects').selectAll().where('organization_id', 'in', organizationIds).orderBy('name').execute();
  }

  /** The organization each of the projects belongs to. */
  async organizationsOfProjects(projectIds: readonly string[]): Promise<Map<string, string>> {
    if (projectIds.length === 0) return new Map();
    const rows = await this.db.selectFrom('projects').select(['id', 'organization_id']).where('id', 'in', projectIds).execute();
    return new Map(rows.map((row) => [row.id, row.organization_id]));
  }
}
