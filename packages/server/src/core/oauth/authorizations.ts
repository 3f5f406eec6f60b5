/**
 * Consent grants: what a user allowed a client, and to which organizations or projects. One grant
 * per user and client; tokens copy its scope and narrowing when they are issued.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Membership } from '../../platform/accounts/organizations.js';
import { recordAudit, type RequestMeta } from '../audit.js';
import { ShortLivedCache } from '../short-lived-cache.js';
import { affectedRows, prepareQuery } from '../../store/prepared.js';
import type { AccessLevel, Database, Grant } from '../../store/schema.js';
import { OAuthError } from './errors.js';
import { boundScopes, formatScope, parseScope, scopesCovered } from './scopes.js';

export interface Narrowing {
  accessLevel: AccessLevel;
  organizationIds: string[];
  projectIds: string[];
}

export const FULL_ACCESS: Narrowing = { accessLevel: 'all', organizationIds: [], projectIds: [] };

export function narrowingOf(row: Pick<Grant, 'access_level' | 'organization_ids' | 'project_ids'>): Narrowing {
  return {
    accessLevel: row.access_level,
    organizationIds: JSON.parse(row.organization_ids) as string[],
    projectIds: JSON.parse(row.project_ids) as string[],
  };
}

export async function findGrant(db: Kysely<Database>, userId: string, clientId: string): Promise<Grant | undefined> {
  return db.selectFrom('grants').selectAll().where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
}

/** Use timestamps are written at most this often, so a busy app's refreshes and API calls stay cheap. */
const LAST_USED_WRITE_INTERVAL_MS = 60_000;

const touchGrantRow = prepareQuery((db, p: { grantId: string; now: number; usedBefore: number }) =>
  db
    .updateTable('grants')
    .set({ last_used_at: p.now })
    .where('id', '=', p.grantId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', p.usedBefore)])),
);

/**
 * The grants whose use this process wrote within the interval: until it ends the UPDATE above
 * cannot match (the stored time is at least as recent), so it is not sent at all. Forgetting an
 * entry only costs one UPDATE that matches nothing. A write rolled back after it was noted here
 * leaves the stored time up to a minute behind, which the Connected apps page (the only reader)
 * shows at that precision anyway.
 */
const recentlyWrittenUse = new ShortLivedCache<true>(LAST_USED_WRITE_INTERVAL_MS);

/** Records that a grant was used (Connected apps shows it), at most once a minute. */
export async function touchGrant(db: Kysely<Database>, grantId: string, now: number): Promise<void> {
  if (recentlyWrittenUse.get(grantId, now)) return;
  if (await affectedRows(touchGrantRow(db, { grantId, now, usedBefore: now - LAST_USED_WRITE_INTERVAL_MS }))) {
    recentlyWrittenUse.set(grantId, true, now);
  }
}

/** True when the grant already covers every requested scope, so consent need not be asked again. */
export function grantCovers(grant: Grant | undefined, scopes: string[]): grant is Grant {
  return grant !== undefined && scopesCovered(parseScope(grant.scope), scopes);
}

/**
 * Records consent. Scopes accumulate across consents (a user who allowed `project:read` and now
 * `annotation:write` has allowed both); the narrowing is the one chosen most recently, and it bounds
 * every token of that user and client: the token families it does not cover are revoked in the
 * same transaction (`revokeFamiliesBeyond`).
 */
export async function saveGrant(
  db: Kysely<Database>,
  input: { userId: string; clientId: string; scopes: string[]; narrowing: Narrowing },
  now: number,
  meta: RequestMeta = {},
): Promise<Grant> {
  return db.transaction().execute(async (trx) => {
    const grant = await upsertGrant(trx, input, now);
    const revoked = await revokeFamiliesBeyond(trx, input, now);
    const detail = { scope: grant.scope, access_level: grant.access_level, organization_ids: input.narrowing.organizationIds, project_ids: input.narrowing.projectIds, revoked_families: revoked };
    await recordAudit(trx, { type: 'consent.granted', userId: input.userId, actor: input.userId, clientId: input.clientId, ip: meta.ip, detail }, now);
    return grant;
  });
}

/** True when everything `inner` lets a token reach, `outer` lets it reach too. */
function narrowingWithin(inner: Narrowing, outer: Narrowing, organizationOfProject: ReadonlyMap<string, string>): boolean {
  if (outer.accessLevel === 'all') return true;
  if (outer.accessLevel === 'project') return inner.accessLevel === 'project' && inner.projectIds.every((id) => outer.projectIds.includes(id));
  if (inner.accessLevel === 'all') return false;
  if (inner.accessLevel === 'organization') return inner.organizationIds.every((id) => outer.organizationIds.includes(id));
  return inner.projectIds.every((id) => outer.organizationIds.includes(organizationOfProject.get(id) ?? ''));
}

/**
 * A user who narrows an app's grant takes the rest away from every token the app already holds,
 * not only from those issued later. Families are not narrowed in place (a retry in the grace window
 * would replay a sealed answer that names the old narrowing); the ones the new narrowing does not
 * cover are revoked, and the app authorizes again, without a consent page, for the narrowing now
 * granted. Families it covers (another device's, already as narrow) keep working. Returns how many
 * were revoked.
 */
async function revokeFamiliesBeyond(db: Kysely<Database>, input: { userId: string; clientId: string; narrowing: Narrowing }, now: number): Promise<number> {
  if (input.narrowing.accessLevel === 'all') return 0;
  const families = await db
    .selectFrom('token_families')
    .select(['id', 'access_level', 'organization_ids', 'project_ids'])
    .where('user_id', '=', input.userId)
    .where('client_id', '=', input.clientId)
    .where('revoked_at', 'is', null)
    .execute();
  const narrowings = families.map((family) => ({ id: family.id, narrowing: narrowingOf(family) }));
  const projectIds = [...new Set(narrowings.flatMap(({ narrowing }) => narrowing.projectIds))];
  const projects = projectIds.length ? await db.selectFrom('projects').select(['id', 'organization_id']).where('id', 'in', projectIds).execute() : [];
  const organizationOfProject = new Map(projects.map((project) => [project.id, project.organization_id]));
  const beyond = narrowings.filter(({ narrowing }) => !narrowingWithin(narrowing, input.narrowing, organizationOfProject)).map(({ id }) => id);
  if (beyond.length === 0) return 0;
  const result = await db.updateTable('token_families').set({ revoked_at: now, revoked_reason: 'consent narrowed' }).where('id', 'in', beyond).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

async function upsertGrant(
  db: Kysely<Database>,
  input: { userId: string; clientId: string; scopes: string[]; narrowing: Narrowing },
  now: number,
): Promise<Grant> {
  const existing = await findGrant(db, input.userId, input.clientId);
  const scope = formatScope(new Set([...parseScope(existing?.scope), ...input.scopes]));
  const values = {
    scope,
    access_level: input.narrowing.accessLevel,
    organization_ids: JSON.stringify(input.narrowing.organizationIds),
    project_ids: JSON.stringify(input.narrowing.projectIds),
    updated_at: now,
  };
  if (existing) {
    await db.updateTable('grants').set(values).where('id', '=', existing.id).execute();
    return { ...existing, ...values };
  }
  const grant: Grant = {
    id: randomUUID(),
    user_id: input.userId,
    client_id: input.clientId,
    created_at: now,
    last_used_at: null,
    ...values,
  };
  await db.insertInto('grants').values(grant).execute();
  return grant;
}

/** What lowering a client's scope ceiling changed (`applyLoweredCeiling`). */
export interface LoweredCeiling {
  grants: number;
  token_families: number;
  revoked_token_families: number;
}

/**
 * Rewrites each distinct scope string among a client's rows within the ceiling: `write(scope,
 * bounded)` changes the rows that hold `scope` and says how many it changed.
 */
async function boundEachScope(scopes: Array<{ scope: string }>, ceiling: readonly string[], write: (scope: string, bounded: string) => Promise<bigint>): Promise<number> {
  let changed = 0;
  for (const { scope } of scopes) {
    const bounded = formatScope(boundScopes(parseScope(scope), ceiling));
    if (bounded !== scope) changed += Number(await write(scope, bounded));
  }
  return changed;
}

/**
 * Takes scopes removed from a client's ceiling away from what it already holds: every grant, so
 * that consent is asked again before they come back, and every live token family, which bounds
 * its access tokens (`findAccessToken`) and refreshes. A grant or family left with no scope is
 * deleted or revoked. Rows are rewritten per distinct scope string, a handful per client however
 * many users it has.
 */
export async function applyLoweredCeiling(db: Kysely<Database>, clientId: string, ceiling: readonly string[], now: number): Promise<LoweredCeiling> {
  const grantScopes = await db.selectFrom('grants').select('scope').distinct().where('client_id', '=', clientId).execute();
  const grants = await boundEachScope(grantScopes, ceiling, async (scope, bounded) => {
    const rows = db.updateTable('grants').set({ scope: bounded, updated_at: now }).where('client_id', '=', clientId).where('scope', '=', scope);
    if (bounded) return (await rows.executeTakeFirst()).numUpdatedRows;
    return (await db.deleteFrom('grants').where('client_id', '=', clientId).where('scope', '=', scope).executeTakeFirst()).numDeletedRows;
  });
  const live = () => db.updateTable('token_families').where('client_id', '=', clientId).where('revoked_at', 'is', null);
  const familyScopes = await db.selectFrom('token_families').select('scope').distinct().where('client_id', '=', clientId).where('revoked_at', 'is', null).execute();
  let revoked = 0;
  const families = await boundEachScope(familyScopes, ceiling, async (scope, bounded) => {
    if (bounded) return (await live().set({ scope: bounded }).where('scope', '=', scope).executeTakeFirst()).numUpdatedRows;
    const { numUpdatedRows } = await live().set({ revoked_at: now, revoked_reason: 'scope ceiling lowered' }).where('scope', '=', scope).executeTakeFirst();
    revoked += Number(numUpdatedRows);
    return numUpdatedRows;
  });
  return { grants, token_families: families, revoked_token_families: revoked };
}

/**
 * Checks a narrowing chosen on the consent page against the user's current memberships, so a
 * forged form value naming someone else's organization or project is refused.
 */
export function validateNarrowing(
  choice: { accessLevel: string | undefined; organizationIds: string[]; projectIds: string[] },
  memberships: Membership[],
  requiredLevel?: 'organization' | 'project',
): Narrowing {
  const level = choice.accessLevel ?? 'all';
  if (level !== 'all' && level !== 'organization' && level !== 'project') {
    throw new OAuthError('invalid_request', 'access_level must be all, organization or project');
  }
  if (requiredLevel && level !== requiredLevel) {
    throw new OAuthError('invalid_request', `this app requires ${requiredLevel}-level access`);
  }
  if (level === 'all') return FULL_ACCESS;
  if (level === 'organization') {
    const mine = new Set(memberships.map((m) => m.organization.id));
    const chosen = [...new Set(choice.organizationIds)];
    if (chosen.length === 0) throw new OAuthError('invalid_request', 'choose at least one organization');
    if (chosen.some((id) => !mine.has(id))) throw new OAuthError('access_denied', 'you are not a member of that organization');
    return { accessLevel: 'organization', organizationIds: chosen, projectIds: [] };
  }
  const mine = new Set(memberships.flatMap((m) => m.projects.map((p) => p.id)));
  const chosen = [...new Set(choice.projectIds)];
  if (chosen.length === 0) throw new OAuthError('invalid_request', 'choose at least one project');
  if (chosen.some((id) => !mine.has(id))) throw new OAuthError('access_denied', 'you do not have access to that project');
  return { accessLevel: 'project', organizationIds: [], projectIds: chosen };
}
