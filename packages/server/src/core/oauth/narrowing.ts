/**
 * Narrowing: how far a user lets an app reach into their organizations and projects. A grant is
 * `all`, some organizations, or some projects; tokens carry it, and resource servers enforce it.
 */
import type { Repositories } from '../../store/index.js';
import type { AccessLevel, MemberRole, Organization, Project } from '../../store/schema.js';
import { OAuthError } from './errors.js';

export interface Narrowing {
  accessLevel: AccessLevel;
  organizationIds: string[];
  projectIds: string[];
}

export const FULL_ACCESS: Narrowing = { accessLevel: 'all', organizationIds: [], projectIds: [] };

/** The narrowing columns every row that carries one has (authorizations, token families, API keys). */
export function narrowingOf(row: { access_level: AccessLevel; organization_ids: string; project_ids: string }): Narrowing {
  return {
    accessLevel: row.access_level,
    organizationIds: JSON.parse(row.organization_ids) as string[],
    projectIds: JSON.parse(row.project_ids) as string[],
  };
}

/** The narrowing as those columns. */
export function narrowingColumns(narrowing: Narrowing): { access_level: AccessLevel; organization_ids: string; project_ids: string } {
  return { access_level: narrowing.accessLevel, organization_ids: JSON.stringify(narrowing.organizationIds), project_ids: JSON.stringify(narrowing.projectIds) };
}

/** An organization a user belongs to, with its projects: what a narrowing may pick from. */
export interface Membership {
  organization: Organization;
  role: MemberRole;
  projects: Project[];
}

export async function listMemberships(store: Repositories, userId: string): Promise<Membership[]> {
  const organizations = await store.organizations.ofUser(userId);
  const projects = await store.organizations.projectsOf(organizations.map((organization) => organization.id));
  return organizations.map(({ role, ...organization }) => ({ organization, role, projects: projects.filter((project) => project.organization_id === organization.id) }));
}

/** True when everything `inner` lets a token reach, `outer` lets it reach too. */
export function narrowingWithin(inner: Narrowing, outer: Narrowing, organizationOfProject: ReadonlyMap<string, string>): boolean {
  if (outer.accessLevel === 'all') return true;
  if (outer.accessLevel === 'project') return inner.accessLevel === 'project' && inner.projectIds.every((id) => outer.projectIds.includes(id));
  if (inner.accessLevel === 'all') return false;
  if (inner.accessLevel === 'organization') return inner.organizationIds.every((id) => outer.organizationIds.includes(id));
  return inner.projectIds.every((id) => outer.organizationIds.includes(organizationOfProject.get(id) ?? ''));
}

/**
 * Checks a narrowing chosen on the consent page against the user's current memberships, so a
 * forged form value naming someone else's organization or project is refused. The messages are
 * sentences the consent and API key pages show next to the choice.
 */
export function validateNarrowing(
  choice: { accessLevel: string | undefined; organizationIds: string[]; projectIds: string[] },
  memberships: Membership[],
  requiredLevel?: 'organization' | 'project',
): Narrowing {
  const level = choice.accessLevel ?? 'all';
  if (level !== 'all' && level !== 'organization' && level !== 'project') {
    throw new OAuthError('invalid_request', 'Choose all data, specific organizations or specific projects.');
  }
  if (requiredLevel && level !== requiredLevel) {
    throw new OAuthError('invalid_request', `This app needs you to choose specific ${requiredLevel === 'organization' ? 'organizations' : 'projects'}.`);
  }
  if (level === 'all') return FULL_ACCESS;
  if (level === 'organization') {
    const mine = new Set(memberships.map((m) => m.organization.id));
    const chosen = [...new Set(choice.organizationIds)];
    if (chosen.length === 0) throw new OAuthError('invalid_request', 'Choose at least one organization to share.');
    if (chosen.some((id) => !mine.has(id))) throw new OAuthError('access_denied', 'You are not a member of that organization.');
    return { accessLevel: 'organization', organizationIds: chosen, projectIds: [] };
  }
  const mine = new Set(memberships.flatMap((m) => m.projects.map((p) => p.id)));
  const chosen = [...new Set(choice.projectIds)];
  if (chosen.length === 0) throw new OAuthError('invalid_request', 'Choose at least one project to share.');
  if (chosen.some((id) => !mine.has(id))) throw new OAuthError('access_denied', 'You do not have access to that project.');
  return { accessLevel: 'project', organizationIds: [], projectIds: chosen };
}
