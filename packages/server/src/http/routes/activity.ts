/** Settings › Recent activity: the signed-in user's own audit events. */
import type { FastifyInstance } from 'fastify';
import { listAudit, type AuditEventType } from '../../core/audit.js';
import type { PlatformContext } from '../../platform/context.js';
import { sendPage } from '../pages/render.js';
import { ActivityPage, type ActivityEntry } from '../pages/settings/activity.js';
import { describeUserAgent } from '../user-agent.js';
import type { Repositories } from '../../store/index.js';
import { requireSession, settingsPageBase } from '../settings.js';

const SHOWN_EVENTS = 100;

type Detail = Record<string, unknown>;

/**
 * Event types in words (every type has one, some depending on the event's detail); a type
 * recorded by another version is shown as it is.
 */
const EVENT_LABELS: Record<AuditEventType, string | ((detail: Detail) => string)> = {
  'consent.granted': 'You authorized an app',
  'token.issued': 'App received access',
  'token.refreshed': 'App renewed its access',
  // An app revoking its refresh token ends its whole sign-in (the token family); an access token is one token.
  'token.revoked': (detail) =>
    detail.token_type === 'refresh_token' ? 'App signed out: it revoked its refresh token and every access token issued with it' : 'App revoked one of its access tokens',
  'refresh_token.reuse_detected': 'Copied refresh token detected; the app’s access was revoked',
  'authorization_code.replay_detected': 'Reused authorization code detected; the app’s access was revoked',
  'device_code.replay_detected': 'Reused device sign-in code detected; the app’s access was revoked',
  'secret_scanning.revoked': 'Leaked token found in public and revoked',
  'client.registered': 'App registered',
  'client.secret_rotated': 'App secret replaced by an administrator',
  'client.deleted': 'App deleted by an administrator',
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
  'sign_in.succeeded': (detail) => (detail.two_factor ? 'Signed in with two-factor sign-in' : 'Signed in'),
  'sign_in.failed': (detail) => (detail.factor === 'second factor' ? 'Failed sign-in: wrong two-factor code' : 'Failed sign-in: wrong password'),
  'password.changed_by_admin': 'Password set by an administrator; every device signed out',
  'password.reset_requested': 'Password reset link sent',
  'password.reset': 'Password changed with a reset link; every device signed out',
  'two_factor.enabled': 'Two-factor sign-in turned on',
  'two_factor.disabled': 'Two-factor sign-in turned off',
  'two_factor.reset': 'Two-factor sign-in turned off by an administrator',
  'two_factor.recovery_codes_regenerated': 'New recovery codes made',
  'two_factor.recovery_code_used': 'Signed in with a recovery code',
  'organization.two_factor_required': 'An organization you own now requires two-factor sign-in',
  'organization.two_factor_not_required': 'An organization you own no longer requires two-factor sign-in',
  // Operator events, recorded for no user: never on a user's page, but every type has its words.
  'resource_server.created': 'Resource server registered',
  'resource_server.secret_rotated': 'Resource server secret rotated',
  'resource_server.deleted': 'Resource server deleted',
};

async function listActivity(store: Repositories, userId: string): Promise<ActivityEntry[]> {
  const events = await listAudit(store, { userId, limit: SHOWN_EVENTS });
  const clientIds = [...new Set(events.flatMap((event) => (event.client_id ? [event.client_id] : [])))];
  const names = await store.clients.names(clientIds);
  // A client id that is a URL (a metadata document) has no row: its host names it.
  for (const id of clientIds) if (!names.has(id) && URL.canParse(id)) names.set(id, new URL(id).host);
  return events.map((event) => {
    const detail = JSON.parse(event.detail) as Detail;
    const label = EVENT_LABELS[event.type as AuditEventType] ?? event.type;
    return {
      id: event.id,
      at: event.at,
      event: typeof label === 'function' ? label(detail) : label,
      app: event.client_id ? (names.get(event.client_id) ?? event.client_id) : undefined,
      ip: event.ip,
      device: typeof detail.user_agent === 'string' ? describeUserAgent(detail.user_agent) : undefined,
    };
  });
}

export async function activityRoutes(app: FastifyInstance, ctx: PlatformContext): Promise<void> {
  app.get('/settings/activity', async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    if (!session) return reply;
    const entries = await listActivity(ctx.store, session.user.id);
    const page = ActivityPage({ ...settingsPageBase(ctx, session, reply), entries, limit: SHOWN_EVENTS });
    return sendPage(reply, page);
  });
}
