/**
 * The verification page's decisions (RFC 8628 §3.3): which pending request a user code names,
 * and recording the signed-in user's approval (with the narrowing they chose, as on the consent
 * page of the code flow) or denial. The device learns the outcome at its next poll.
 */
import { findResource, resourceShownAtConsent } from '../../resources/registry.js';
import type { RequestMeta } from '../../audit.js';
import type { OAuthClient } from '../../clients/client.js';
import type { Context } from '../../context.js';
import type { ConsentSubmission, SignedInUser } from '../authorize/decide.js';
import { saveAuthorization } from '../authorizations.js';
import { OAuthError } from '../errors.js';
import { listMemberships, validateNarrowing } from '../narrowing.js';
import { parseScope } from '../scopes.js';
import { formatUserCode, hashUserCode, normalizeUserCode } from './user-code.js';

/** A request waiting for its user's decision, as the consent page shows it. */
export interface PendingDeviceAuthorization {
  deviceCodeHash: string;
  /** As the device shows it: `XXXX-XXXX`. */
  userCode: string;
  client: OAuthClient;
  scopes: string[];
  /** How the consent page names the resource the tokens will be for (undefined: the platform API). */
  resourceShown: { name: string; host: string } | undefined;
}

/**
 * The pending, unexpired request `typed` names, or undefined: a code that is malformed, unknown,
 * expired, or already decided (a user code is good for one decision) gets the same answer.
 */
export async function findPendingDeviceAuthorization(ctx: Context, typed: string): Promise<PendingDeviceAuthorization | undefined> {
  const code = normalizeUserCode(typed);
  if (!code) return undefined;
  const row = await ctx.store.deviceAuthorizations.findByUserCode(hashUserCode(ctx.config.secretKey, code));
  if (!row || row.status !== 'pending' || row.expires_at <= ctx.now()) return undefined;
  const client = await ctx.clients.resolve(row.client_id);
  if (!client) return undefined;
  const resource = row.resource === null ? undefined : await findResource(ctx.store, ctx.config, row.resource);
  return { deviceCodeHash: row.device_code_hash, userCode: formatUserCode(code), client, scopes: parseScope(row.scope), resourceShown: resourceShownAtConsent(resource) };
}

export type DeviceDecisionOutcome =
  | { kind: 'approved' }
  | { kind: 'denied' }
  /** Expired or decided meanwhile (in another tab, say). */
  | { kind: 'gone' }
  /** The narrowing chosen was not acceptable: the consent page again, with why. */
  | { kind: 'consent'; error: string };

/** Thrown inside the approval's transaction to undo its consent when the request was decided meanwhile. */
class DecidedMeanwhile extends Error {}

export async function decideDeviceAuthorization(
  ctx: Context,
  pending: PendingDeviceAuthorization,
  user: SignedInUser,
  submission: ConsentSubmission,
  meta: RequestMeta = {},
): Promise<DeviceDecisionOutcome> {
  const now = ctx.now();
  if (submission.decision !== 'allow') {
    const denied = await ctx.store.deviceAuthorizations.decide(pending.deviceCodeHash, { status: 'denied', user_id: user.userId }, now);
    return { kind: denied ? 'denied' : 'gone' };
  }
  let narrowing;
  try {
    narrowing = validateNarrowing(submission.narrowing, await listMemberships(ctx.store, user.userId));
  } catch (error) {
    if (error instanceof OAuthError) return { kind: 'consent', error: error.description };
    throw error;
  }
  try {
    // The consent record, its audit event and the approval are one transaction: never one without the other.
    await ctx.store.transaction(async (tx) => {
      const saved = await saveAuthorization(tx, { userId: user.userId, clientId: pending.client.id, scopes: pending.scopes, narrowing }, now, meta);
      const approval = { status: 'approved' as const, user_id: user.userId, authorization_id: saved.id, auth_time: user.authTime, amr: user.amr.join(' ') };
      if (!(await tx.deviceAuthorizations.decide(pending.deviceCodeHash, approval, now))) throw new DecidedMeanwhile();
    });
  } catch (error) {
    if (error instanceof DecidedMeanwhile) return { kind: 'gone' };
    throw error;
  }
  return { kind: 'approved' };
}
