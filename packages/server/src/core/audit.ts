/**
 * The audit trail: who did what, to which client, from where and when. Events are written in the
 * same transaction as the change they describe, so neither exists without the other.
 */
import type { Repositories } from '../store/index.js';
import type { AuditEventsTable } from '../store/schema.js';
import { secureRandomBytes } from './crypto/random.js';

export const AUDIT_EVENT_TYPES = [
  'consent.granted',
  'token.issued',
  'token.refreshed',
  'token.revoked',
  'refresh_token.reuse_detected',
  'authorization_code.replay_detected',
  'device_code.replay_detected',
  'secret_scanning.revoked',
  'client.registered',
  'client.secret_rotated',
  'client.deleted',
  'app.created',
  'app.updated',
  'app.secret_rotated',
  'app.deleted',
  'app.verified',
  'app.unverified',
  'connected_app.revoked',
  'api_key.created',
  'api_key.revoked',
  'account.locked',
  'account.created',
  'account.signup_attempted',
  'sign_in.succeeded',
  'sign_in.failed',
  'password.changed_by_admin',
  'password.reset_requested',
  'password.reset',
  'two_factor.enabled',
  'two_factor.disabled',
  'two_factor.reset',
  'two_factor.recovery_codes_regenerated',
  'two_factor.recovery_code_used',
  'organization.two_factor_required',
  'organization.two_factor_not_required',
  'resource_server.created',
  'resource_server.secret_rotated',
  'resource_server.deleted',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Where a request came from; passed from the HTTP layer into protocol functions. */
export interface RequestMeta {
  ip?: string | undefined;
  /** The browser's User-Agent header; kept with sign-in events so users recognise their devices. */
  userAgent?: string | undefined;
  /** The signed-in user acting, when it is not the token's own user (or there is no token). */
  actorUserId?: string | undefined;
}

export interface AuditEvent {
  type: AuditEventType;
  /** The user whose account the event concerns: they see it under Recent activity. */
  userId: string | null;
  /** Who acted: a user id, `client:<client id>`, or `system:<component>`. */
  actor: string;
  clientId?: string | null;
  ip?: string | null | undefined;
  detail?: Record<string, unknown>;
}

/** Time-ordered ids: new events append to the end of the primary key index rather than land on a random page. */
function eventId(now: number): string {
  return `${now.toString(16).padStart(12, '0')}-${secureRandomBytes(10).toString('hex')}`;
}

/** Records an event through `tx`, the repositories of the transaction that makes the change. */
export async function recordAudit(tx: Repositories, event: AuditEvent, now: number): Promise<void> {
  await tx.audit.insert({
    id: eventId(now),
    at: now,
    type: event.type,
    user_id: event.userId,
    actor: event.actor,
    client_id: event.clientId ?? null,
    ip: event.ip ?? null,
    detail: JSON.stringify(event.detail ?? {}),
  });
}

export interface AuditQuery {
  userId?: string;
  clientId?: string;
  type?: AuditEventType;
  since?: number;
  limit?: number;
}

/** Newest first, at most 1000. */
export function listAudit(store: Repositories, query: AuditQuery = {}): Promise<AuditEventsTable[]> {
  return store.audit.list({ ...query, limit: Math.min(query.limit ?? 100, 1000) });
}
