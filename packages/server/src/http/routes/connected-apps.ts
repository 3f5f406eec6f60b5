/** Settings › Connected apps: what the user authorized, and revoking it. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listMemberships } from '../../core/oauth/narrowing.js';
import type { BrowserSession } from '../../platform/accounts/sessions.js';
import type { PlatformContext } from '../../platform/context.js';
import { listConnectedApps, revokeConnectedApp } from '../../platform/connected-apps.js';
import { sendPage } from '../pages/render.js';
import { ConfirmRevokePage, ConnectedAppsPage } from '../pages/settings/connected-apps.js';
import { textParam } from '../params.js';
import { membershipNames, recentlyAuthenticated, recheckPassword, requireSession, settingsPageBase } from '../settings.js';

type Form = Record<string, unknown>;

export async function connectedAppsRoutes(app: FastifyInstance, ctx: PlatformContext): Promise<void> {
  async function listPage(reply: FastifyReply, session: BrowserSession, notice?: string) {
    const [apps, memberships] = await Promise.all([listConnectedApps(ctx.store, session.user.id), listMemberships(ctx.store, session.user.id)]);
    const page = ConnectedAppsPage({ ...settingsPageBase(ctx, session, reply), apps, names: membershipNames(memberships), notice });
    return sendPage(reply, page);
  }

  app.get('/settings/connected-apps', async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    return session && listPage(reply, session);
  });

  app.post('/settings/connected-apps/revoke', { preHandler: app.csrfProtection }, async (request: FastifyRequest, reply) => {
    const session = await requireSession(ctx, request, reply);
    if (!session) return reply;
    const form = request.body as Form;
    const clientId = textParam(form, 'client_id');
    const connected = (await listConnectedApps(ctx.store, session.user.id)).find((candidate) => candidate.clientId === clientId);
    if (!connected) return listPage(reply, session, 'That app is not connected to your account.');
    // A session left open for a while must prove it is still its owner before cutting an app off.
    const needsPassword = !recentlyAuthenticated(ctx, session);
    const confirmPage = (status: number, error?: string) =>
      sendPage(reply, ConfirmRevokePage({ ...settingsPageBase(ctx, session, reply), app: connected, needsPassword, error }), status);
    // The list's Revoke button only asks; the confirmation page's button revokes.
    if (textParam(form, 'confirm') !== 'yes') return confirmPage(200);
    if (needsPassword) {
      const refusal = await recheckPassword(ctx, request, reply, session, textParam(form, 'password'));
      if (refusal) return confirmPage(refusal.status, refusal.error);
    }
    await revokeConnectedApp(ctx, { userId: session.user.id, clientId }, { ip: request.ip });
    return listPage(reply, session, `${connected.name} no longer has access to your account.`);
  });
}
