/** Organizations, their members (owner / admin / member) and the projects they own. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { recordAudit, type RequestMeta } from '../../core/audit.js';
import type { Context } from '../../core/context.js';
import type { Database, MemberRole, Organization, Project } from '../../store/schema.js';
import { AccountError } from './users.js';

export async function createOrganization(
  db: Kysely<Database>,
  input: { name: string; ownerId: string },
  now: number,
): Promise<Organization> {
  const name = input.name.trim();
  if (!name) throw new AccountError('An organization needs a name.');
  const organization: Organization = { id: randomUUID(), name, created_at: now, require_two_factor: 0 };
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('organizations').values(organization).execute();
    await trx
      .insertInto('memberships')
      .values({ organization_id: organization.id, user_id: input.ownerId, role: 'owner', created_at: now })
      .execute();
  });
  return organization;
}

export async function addMember(
  db: Kysely<Database>,
  input: { organizationId: string; userId: string; role: MemberRole },
  now: number,
): Promise<void> {
  await db
    .insertInto('memberships')
    .values({ organization_id: input.organizationId, user_id: input.userId, role: input.role, created_at: now })
    .execute();
}

export async function createProject(
  db: Kysely<Database>,
  input: { organizationId: string; name: string },
  now: number,
): Promise<Project> {
  const name = input.name.trim();
  if (!name) throw new AccountError('A project needs a name.');
  const organization = await db.selectFrom('organizations').select('id').where('id', '=', input.organizationId).executeTakeFirst();
  if (!organization) throw new AccountError(`No organization ${input.organizationId}.`);
  const project: Project = { id: randomUUID(), organization_id: input.organizationId, name, created_at: now };
  await db.insertInto('projects').values(project).execute();
  return project;
}

export interface Membership {
  organization: Organization;
  role: MemberRole;
  projects: Project[];
}

/** The organizations a user belongs to, each with its projects: what a consent narrowing may pick from. */
export async function listMemberships(db: Kysely<Database>, userId: string): Promise<Membership[]> {
  const organizations = await db
    .selectFrom('memberships')
    .innerJoin('organizations', 'organizations.id', 'memberships.organization_id')
    .selectAll('organizations')
    .select('memberships.role')
    .where('memberships.user_id', '=', userId)
    .orderBy('organizations.name')
    .execute();
  if (organizations.length === 0) return [];
  const projects = await db
    .selectFrom('projects')
    .selectAll()
    .where('organization_id', 'in', organizations.map((o) => o.id))
    .orderBy('name')
    .execute();
  return organizations.map(({ role, ...organization }) => ({
    organization,
    role,
    projects: projects.filter((p) => p.organization_id === organization.id),
  }));
}

/** The organizations a user owns. */
export async function organizationsOwnedBy(db: Kysely<Database>, userId: string): Promise<Organization[]> {
  return db
    .selectFrom('memberships')
    .innerJoin('organizations', 'organizations.id', 'memberships.organization_id')
    .selectAll('organizations')
    .where('memberships.user_id', '=', userId)
    .where('memberships.role', '=', 'owner')
    .orderBy('organizations.name')
    .execute();
}

/**
 * An owner requires (or stops requiring) two-factor sign-in for apps reading the organization's
 * data: the resource toolkit then refuses its data to tokens from a password-only sign-in
 * (src/resource-server/access.ts). An owner must have two-factor sign-in on to require it.
 */
export async function setTwoFactorRequirement(
  ctx: Context,
  input: { userId: string; organizationId: string; required: boolean; ownerHasTwoFactor: boolean },
  meta: RequestMeta,
): Promise<void> {
  if (input.required && !input.ownerHasTwoFactor) throw new AccountError('Turn on two-factor sign-in for yourself first.');
  const now = ctx.now();
  const changed = await ctx.transaction(async (trx) => {
    const owner = await trx
      .selectFrom('memberships')
      .select('role')
      .where('organization_id', '=', input.organizationId)
      .where('user_id', '=', input.userId)
      .where('role', '=', 'owner')
      .executeTakeFirst();
    if (!owner) return false;
    await trx.updateTable('organizations').set({ require_two_factor: input.required ? 1 : 0 }).where('id', '=', input.organizationId).execute();
    const type = input.required ? 'organization.two_factor_required' : 'organization.two_factor_not_required';
    await recordAudit(trx, { type, userId: input.userId, actor: input.userId, ip: meta.ip, detail: { organization_id: input.organizationId } }, now);
    return true;
  });
  if (!changed) throw new AccountError('Only an owner of an organization can change this.');
}
