/** Organizations, their members (owner / admin / member) and the projects they own. */
import { randomUUID } from 'node:crypto';
import { recordAudit, type RequestMeta } from '../../core/audit.js';
import type { Context } from '../../core/context.js';
import type { Repositories, Store } from '../../store/index.js';
import type { MemberRole, Organization, Project } from '../../store/schema.js';
import { AccountError } from './users.js';

export async function createOrganization(store: Store, input: { name: string; ownerId: string }, now: number): Promise<Organization> {
  const name = input.name.trim();
  if (!name) throw new AccountError('An organization needs a name.');
  const organization: Organization = { id: randomUUID(), name, created_at: now, require_two_factor: 0 };
  await store.transaction(async (tx) => {
    await tx.organizations.insert(organization);
    await tx.organizations.insertMembership({ organization_id: organization.id, user_id: input.ownerId, role: 'owner', created_at: now });
  });
  return organization;
}

export async function addMember(store: Repositories, input: { organizationId: string; userId: string; role: MemberRole }, now: number): Promise<void> {
  await store.organizations.insertMembership({ organization_id: input.organizationId, user_id: input.userId, role: input.role, created_at: now });
}

export async function createProject(store: Repositories, input: { organizationId: string; name: string }, now: number): Promise<Project> {
  const name = input.name.trim();
  if (!name) throw new AccountError('A project needs a name.');
  if (!(await store.organizations.find(input.organizationId))) throw new AccountError(`No organization ${input.organizationId}.`);
  const project: Project = { id: randomUUID(), organization_id: input.organizationId, name, created_at: now };
  await store.organizations.insertProject(project);
  return project;
}

/** The organizations a user owns. */
export function organizationsOwnedBy(store: Repositories, userId: string): Promise<Organization[]> {
  return store.organizations.ofUser(userId, ['owner']);
}

/**
 * An owner requires (or stops requiring) two-factor sign-in for apps reading the organization's
 * data: the resource toolkit then refuses its data to tokens from a password-only sign-in
 * (http/resource-server/access.ts). An owner must have two-factor sign-in on to require it.
 */
export async function setTwoFactorRequirement(
  ctx: Context,
  input: { userId: string; organizationId: string; required: boolean; ownerHasTwoFactor: boolean },
  meta: RequestMeta,
): Promise<void> {
  if (input.required && !input.ownerHasTwoFactor) throw new AccountError('Turn on two-factor sign-in for yourself first.');
  const now = ctx.now();
  const changed = await ctx.store.transaction(async (tx) => {
    if ((await tx.organizations.roleOf(input.userId, input.organizationId)) !== 'owner') return false;
    await tx.organizations.setRequireTwoFactor(input.organizationId, input.required);
    const type = input.required ? 'organization.two_factor_required' : 'organization.two_factor_not_required';
    await recordAudit(tx, { type, userId: input.userId, actor: input.userId, ip: meta.ip, detail: { organization_id: input.organizationId } }, now);
    return true;
  });
  if (!changed) throw new AccountError('Only an owner of an organization can change this.');
}
