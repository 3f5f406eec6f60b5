/**
 * Consent grants: what a user allowed a client, and to which organizations or projects. One grant
 * per user and client; tokens copy its scope and narrowing when they are issued.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Membership } from '../accounts/organizations.js';
import { recordAudit, type RequestMeta } from '../audit/audit.js';
import { ShortLivedCache } from '../short-lived-cache.js';
import { affectedRows, prepareQuery } from '../store/prepared.js';
import type { AccessLevel, Database, Grant } from '../store/schema.js';
import { OAuthError } from './errors.js';
import { formatScope, parseScope, scopesCovered } from './scopes.js';

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
 * `annotation:write` has allowed both); the narrowing is the one chosen most recently.
 */
export async function saveGrant(
  db: Kysely<Database>,
  input: { userId: string; clientId: string; scopes: string[]; narrowing: Narrowing },
  now: number,
  meta: RequestMeta = {},
): Promise<Grant> {
  return db.transaction().execute(async (trx) => {
    const grant = await upsertGrant(trx, input, now);
    const detail = { scope: grant.scope, access_level: grant.access_level, organization_ids: input.narrowing.organizationIds, project_ids: input.narrowing.projectIds };
    await recordAudit(trx, { type: 'consent.granted', userId: input.userId, actor: input.userId, clientId: input.clientId, ip: meta.ip, detail }, now);
    return grant;
  });
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
