/**
 * Authorizations: what a user allowed a client (scopes), and how far into their organizations and
 * projects (narrowing). One per user and client; tokens copy its scope and narrowing when issued.
 */
import { randomUUID } from 'node:crypto';
import type { Repositories } from '../../store/index.js';
import type { Authorization } from '../../store/schema.js';
import { recordAudit, type RequestMeta } from '../audit.js';
import { ShortLivedCache } from '../short-lived-cache.js';
import { narrowingColumns, narrowingOf, narrowingWithin, type Narrowing } from './narrowing.js';
import { boundScopes, formatScope, parseScope, scopesCovered } from './scopes.js';

/** Use timestamps are written at most this often, so a busy app's refreshes and API calls stay cheap. */
const LAST_USED_WRITE_INTERVAL_MS = 60_000;

/**
 * The authorizations whose use this process wrote within the interval: until it ends the write
 * cannot match (the stored time is at least as recent), so it is not sent at all. Forgetting an
 * entry only costs one UPDATE that matches nothing. A write rolled back after it was noted here
 * leaves the stored time up to a minute behind, which the Connected apps page (the only reader)
 * shows at that precision anyway.
 */
const recentlyWrittenUse = new ShortLivedCache<true>(LAST_USED_WRITE_INTERVAL_MS);

/** Records that an authorization was used (Connected apps shows it), at most once a minute. */
export async function touchAuthorization(store: Repositories, authorizationId: string, now: number): Promise<void> {
  if (recentlyWrittenUse.get(authorizationId, now)) return;
  if (await store.authorizations.touch(authorizationId, now, now - LAST_USED_WRITE_INTERVAL_MS)) recentlyWrittenUse.set(authorizationId, true, now);
}

/** True when the authorization already covers every requested scope, so consent need not be asked again. */
export function authorizationCovers(authorization: Authorization | undefined, scopes: string[]): authorization is Authorization {
  return authorization !== undefined && scopesCovered(parseScope(authorization.scope), scopes);
}

export interface Consent {
  userId: string;
  clientId: string;
  scopes: string[];
  narrowing: Narrowing;
}

/**
 * Records consent, in the caller's transaction. Scopes accumulate across consents (a user who
 * allowed `project:read` and now `annotation:write` has allowed both); the narrowing is the one
 * chosen most recently, and it bounds every token of that user and client: the token families it
 * does not cover are revoked (`revokeFamiliesBeyond`).
 */
export async function saveAuthorization(tx: Repositories, consent: Consent, now: number, meta: RequestMeta = {}): Promise<Authorization> {
  const existing = await tx.authorizations.find(consent.userId, consent.clientId);
  const changes = { scope: formatScope(new Set([...parseScope(existing?.scope), ...consent.scopes])), ...narrowingColumns(consent.narrowing), updated_at: now };
  let authorization: Authorization;
  if (existing) {
    await tx.authorizations.update(existing.id, changes);
    authorization = { ...existing, ...changes };
  } else {
    authorization = { id: randomUUID(), user_id: consent.userId, client_id: consent.clientId, created_at: now, last_used_at: null, ...changes };
    await tx.authorizations.insert(authorization);
  }
  const revoked = await revokeFamiliesBeyond(tx, consent, now);
  const { organizationIds, projectIds } = consent.narrowing;
  const detail = { scope: authorization.scope, access_level: authorization.access_level, organization_ids: organizationIds, project_ids: projectIds, revoked_families: revoked };
  await recordAudit(tx, { type: 'consent.granted', userId: consent.userId, actor: consent.userId, clientId: consent.clientId, ip: meta.ip, detail }, now);
  return authorization;
}

/**
 * A user who narrows an app's authorization takes the rest away from every token the app already
 * holds, not only from those issued later. Families are not narrowed in place (a retry in the grace
 * window would replay a sealed answer that names the old narrowing); the ones the new narrowing
 * does not cover are revoked, and the app authorizes again, without a consent page, for the
 * narrowing now granted. Families it covers (another device's, already as narrow) keep working.
 * Returns how many were revoked.
 */
async function revokeFamiliesBeyond(tx: Repositories, consent: Consent, now: number): Promise<number> {
  if (consent.narrowing.accessLevel === 'all') return 0;
  const families = (await tx.tokens.liveFamilyNarrowings(consent.userId, consent.clientId)).map((family) => ({ id: family.id, narrowing: narrowingOf(family) }));
  const organizationOfProject = await tx.organizations.organizationsOfProjects([...new Set(families.flatMap(({ narrowing }) => narrowing.projectIds))]);
  const beyond = families.filter(({ narrowing }) => !narrowingWithin(narrowing, consent.narrowing, organizationOfProject)).map(({ id }) => id);
  return tx.tokens.revokeFamilies(beyond, 'consent narrowed', now);
}

/** What lowering a client's scope ceiling changed (`applyLoweredCeiling`). */
export interface LoweredCeiling {
  /** Authorizations rescoped. Named `grants` because it is written as is into the app.updated audit detail. */
  grants: number;
  token_families: number;
  revoked_token_families: number;
}

/**
 * Takes scopes removed from a client's ceiling away from what it already holds: every
 * authorization, so that consent is asked again before they come back, and every live token
 * family, which bounds its access tokens (`findAccessToken`) and refreshes. An authorization or
 * family left with no scope is deleted or revoked. Rows are rewritten per distinct scope string, a
 * handful per client however many users it has.
 */
export async function applyLoweredCeiling(tx: Repositories, clientId: string, ceiling: readonly string[], now: number): Promise<LoweredCeiling> {
  const lowered = { grants: 0, token_families: 0, revoked_token_families: 0 };
  for (const scope of await tx.authorizations.scopesOf(clientId)) {
    const bounded = formatScope(boundScopes(parseScope(scope), ceiling));
    if (bounded !== scope) lowered.grants += await tx.authorizations.rescope(clientId, scope, bounded, now);
  }
  for (const scope of await tx.tokens.liveFamilyScopes(clientId)) {
    const bounded = formatScope(boundScopes(parseScope(scope), ceiling));
    if (bounded === scope) continue;
    const changed = bounded ? await tx.tokens.rescopeLiveFamilies(clientId, scope, bounded) : await tx.tokens.revokeLiveFamiliesWithScope(clientId, scope, 'scope ceiling lowered', now);
    lowered.token_families += changed;
    if (!bounded) lowered.revoked_token_families += changed;
  }
  return lowered;
}
