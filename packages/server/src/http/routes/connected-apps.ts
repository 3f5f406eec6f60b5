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
    if (!recentlyAuthenticated(ctx, session)) {
      const password = typeof form.password === 'string' ? form.password : undefined;
      const refusal = password === undefined ? { status: 200, error: undefined } : await recheckPassword(ctx, request, reply, session, password);
      if (refusal) {
        const page = ConfirmRevokePage({ ...settingsPageBase(ctx, session, reply), app: connected, error: refusal.error });
        return sendPage(reply, page, refusal.status);
      }
    }
    await revokeConnectedApp(ctx, { userId: session.user.id, clientId }, { ip: request.ip });
    return listPage(reply, session, `${connected.name} no longer has access to your account.`);
  });
}
