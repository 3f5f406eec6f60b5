/** Settings › Recent activity: the signed-in user's own audit events. */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { listAudit, type AuditEventType } from '../../core/audit.js';
import type { Context } from '../../core/context.js';
import { sendPage } from '../pages/render.js';
import { ActivityPage, type ActivityEntry } from '../pages/settings/activity.js';
import type { Database } from '../../store/schema.js';
import { requireSession, settingsPageBase } from '../settings.js';

const SHOWN_EVENTS = 100;

/** Event types in words (every type has one); a type recorded by another version is shown as it is. */
const EVENT_LABELS: Record<AuditEventType, string> = {
  'consent.granted': 'You authorized an app',
  'token.issued': 'App received access',
  'token.refreshed': 'App renewed its access',
  'token.revoked': 'App access token revoked',
  'refresh_token.reuse_detected': 'Copied refresh token detected; the app’s access was revoked',
  'authorization_code.replay_detected': 'Reused authorization code detected; the app’s access was revoked',
  'secret_scanning.revoked': 'Leaked token found in public and revoked',
  'client.registered': 'App registered',
  'app.created': 'App created',
  'app.updated': 'App updated',
  'app.secret_rotated': 'App secret rotated',
  'app.deleted': 'App deleted',
  'app.verified': 'App verified',
  'app.unverified': 'App verification removed',
  'connected_app.revoked': 'You revoked an app',
  'api_key.created': 'Personal API key created',
  'api_key.revoked': 'Personal API key revoked',
  'account.locked': 'Sign-in paused after repeated failed attempts',
  'account.created': 'Account created',
  'account.signup_attempted': 'Someone tried to sign up with your address',
  'password.reset_requested': 'Password reset link sent',
  'password.reset': 'Password changed with a reset link; every device signed out',
  'two_factor.enabled': 'Two-factor sign-in turned on',
  'two_factor.disabled': 'Two-factor sign-in turned off',
  'two_factor.reset': 'Two-factor sign-in turned off by an administrator',
  'two_factor.recovery_codes_regenerated': 'New recovery codes made',
  'two_factor.recovery_code_used': 'Signed in with a recovery code',
  'organization.two_factor_required': 'An organization you own now requires two-factor sign-in',
  'organization.two_factor_not_required': 'An organization you own no longer requires two-factor sign-in',
};

/**
 * Names of the apps the events mention: a registered client's name, or for a client id that is a
 * URL (a metadata document), its host.
 */
async function appNames(db: Kysely<Database>, clientIds: string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if (clientIds.length === 0) return names;
  const rows = await db.selectFrom('clients').select(['id', 'name']).where('id', 'in', clientIds).execute();
  for (const row of rows) names.set(row.id, row.name);
  for (const id of clientIds) if (!names.has(id) && URL.canParse(id)) names.set(id, new URL(id).host);
  return names;
}

async function listActivity(db: Kysely<Database>, userId: string): Promise<ActivityEntry[]> {
  const events = await listAudit(db, { userId, limit: SHOWN_EVENTS });
  const names = await appNames(db, [...new Set(events.flatMap((event) => (event.client_id ? [event.client_id] : [])))]);
  return events.map((event) => ({
    id: event.id,
    at: event.at,
    event: EVENT_LABELS[event.type as AuditEventType] ?? event.type,
    app: event.client_id ? (names.get(event.client_id) ?? event.client_id) : undefined,
    ip: event.ip,
  }));
}

export async function activityRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  app.get('/settings/activity', async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    if (!session) return reply;
    const entries = await listActivity(ctx.db, session.user.id);
    const page = ActivityPage({ ...settingsPageBase(ctx, session, reply), entries, limit: SHOWN_EVENTS });
    return sendPage(reply, page);
  });
}
