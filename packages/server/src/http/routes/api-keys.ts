/** Settings › Personal API keys: create (shown once), list with last use, revoke. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createApiKey, listApiKeys, revokeApiKey } from '../../platform/api-keys.js';
import type { BrowserSession } from '../../platform/accounts/sessions.js';
import { AccountError } from '../../platform/accounts/users.js';
import type { PlatformContext } from '../../platform/context.js';
import { listMemberships, validateNarrowing, type Membership } from '../../core/oauth/narrowing.js';
import { OAuthError } from '../../core/oauth/errors.js';
import { RESOURCE_SCOPES, SCOPE_DESCRIPTIONS } from '../../platform/scopes.js';
import { sendPage } from '../pages/render.js';
import { ApiKeysPage, type ApiKeysPageProps } from '../pages/settings/api-keys.js';
import { listParam, narrowingChoice, textParam } from '../params.js';
import { membershipNames, requireSession, settingsPageBase } from '../settings.js';

export async function apiKeysRoutes(app: FastifyInstance, ctx: PlatformContext): Promise<void> {
  type Outcome = Pick<ApiKeysPageProps, 'created' | 'error' | 'notice'>;
  /** The page, with the user's memberships when the caller has already read them. */
  async function page(reply: FastifyReply, session: BrowserSession, outcome: Outcome = {}, status = 200, knownMemberships?: Membership[]) {
    const [keys, memberships] = await Promise.all([listApiKeys(ctx.store, session.user.id), knownMemberships ?? listMemberships(ctx.store, session.user.id)]);
    const scopes = RESOURCE_SCOPES.map((scope) => ({ scope, description: SCOPE_DESCRIPTIONS[scope]! }));
    const props = { ...settingsPageBase(ctx, session, reply), keys, memberships, names: membershipNames(memberships), scopes };
    return sendPage(reply, ApiKeysPage({ ...props, ...outcome }), status);
  }

  app.get('/settings/api-keys', async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    return session && page(reply, session);
  });

  app.post('/settings/api-keys', { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    if (!session) return reply;
    const form = request.body;
    const memberships = await listMemberships(ctx.store, session.user.id);
    try {
      const narrowing = validateNarrowing(narrowingChoice(form), memberships);
      const scopes = listParam(form, 'scopes').filter((scope) => RESOURCE_SCOPES.includes(scope));
      const { key, record } = await createApiKey(ctx.store, { userId: session.user.id, label: textParam(form, 'label'), scopes, narrowing }, ctx.now(), { ip: request.ip });
      return page(reply, session, { created: { label: record.label, key } }, 201, memberships);
    } catch (error) {
      if (error instanceof OAuthError || error instanceof AccountError) {
        const message = error instanceof OAuthError ? (error.code === 'invalid_scope' ? 'Choose at least one scope.' : error.description) : error.message;
        return page(reply, session, { error: message }, 400, memberships);
      }
      throw error;
    }
  });

  app.post('/settings/api-keys/revoke', { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    if (!session) return reply;
    const id = textParam(request.body, 'id');
    const revoked = id !== '' && (await revokeApiKey(ctx.store, { userId: session.user.id, id }, ctx.now(), { ip: request.ip }));
    return page(reply, session, { notice: revoked ? 'The key was revoked; it no longer works.' : 'No such key.' });
  });
}
