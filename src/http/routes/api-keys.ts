/** Settings › Personal API keys: create (shown once), list with last use, revoke. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createApiKey, listApiKeys, revokeApiKey } from '../../accounts/api-keys.js';
import { listMemberships } from '../../accounts/organizations.js';
import type { BrowserSession } from '../../accounts/sessions.js';
import { AccountError } from '../../accounts/users.js';
import type { Context } from '../../context.js';
import { validateNarrowing } from '../../oauth/consent.js';
import { OAuthError } from '../../oauth/errors.js';
import { RESOURCE_SCOPES, SCOPE_DESCRIPTIONS } from '../../oauth/scopes.js';
import { sendPage } from '../../pages/render.js';
import { ApiKeysPage, type ApiKeysPageProps } from '../../pages/settings/api-keys.js';
import { listParam } from '../params.js';
import { membershipNames, requireSession } from '../settings.js';

type Form = Record<string, unknown>;

export async function apiKeysRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  async function page(reply: FastifyReply, session: BrowserSession, extra: Pick<ApiKeysPageProps, 'created' | 'error' | 'notice'> = {}, status = 200) {
    const [keys, memberships] = await Promise.all([listApiKeys(ctx.db, session.user.id), listMemberships(ctx.db, session.user.id)]);
    const props = { platformName: ctx.config.platformName, email: session.user.email, csrfToken: reply.generateCsrf(), keys, memberships, names: membershipNames(memberships), scopes: RESOURCE_SCOPES.map((scope) => ({ scope, description: SCOPE_DESCRIPTIONS[scope]! })) };
    return sendPage(reply, ApiKeysPage({ ...props, ...extra }), status);
  }

  app.get('/settings/api-keys', async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    return session && page(reply, session);
  });

  app.post('/settings/api-keys', { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    if (!session) return reply;
    const form = request.body as Form;
    try {
      const narrowing = validateNarrowing(
        { accessLevel: typeof form.access_level === 'string' ? form.access_level : undefined, organizationIds: listParam(form, 'organization_ids'), projectIds: listParam(form, 'project_ids') },
        await listMemberships(ctx.db, session.user.id),
      );
      const scopes = listParam(form, 'scopes').filter((scope) => RESOURCE_SCOPES.includes(scope));
      const label = typeof form.label === 'string' ? form.label : '';
      const { key, record } = await createApiKey(ctx.db, { userId: session.user.id, label, scopes, narrowing }, ctx.now(), { ip: request.ip });
      return page(reply, session, { created: { label: record.label, key } }, 201);
    } catch (error) {
      if (error instanceof OAuthError || error instanceof AccountError) {
        const message = error instanceof OAuthError ? (error.code === 'invalid_scope' ? 'Choose at least one scope.' : error.description) : error.message;
        return page(reply, session, { error: message }, 400);
      }
      throw error;
    }
  });

  app.post('/settings/api-keys/revoke', { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    if (!session) return reply;
    const id = (request.body as Form).id;
    const revoked = typeof id === 'string' && (await revokeApiKey(ctx.db, { userId: session.user.id, id }, ctx.now(), { ip: request.ip }));
    return page(reply, session, { notice: revoked ? 'The key was revoked; it no longer works.' : 'No such key.' });
  });
}
