/**
 * Settings › Security: two-factor sign-in (enrolment with a QR code, recovery codes, turning it
 * off) and, for organization owners, requiring two-factor sign-in for apps reading their data.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { organizationsOwnedBy, setTwoFactorRequirement } from '../../platform/accounts/organizations.js';
import { recordFailedCheck } from '../../platform/accounts/password-checks.js';
import { addSecondFactorToSession, type BrowserSession } from '../../platform/accounts/sessions.js';
import { confirmEnrolment, disableTwoFactor, pendingEnrolment, regenerateRecoveryCodes, startEnrolment, twoFactorStatus, useSecondFactor } from '../../platform/accounts/two-factor.js';
import { AccountError } from '../../platform/accounts/users.js';
import type { PlatformContext } from '../../platform/context.js';
import { sendPage } from '../pages/render.js';
import { EnrolmentPage, RecoveryCodesPage, SecurityPage } from '../pages/settings/security.js';
import { textParam } from '../params.js';
import { recentlyAuthenticated, recheckPassword, requireSession, settingsPageBase } from '../settings.js';
import { requestMeta } from '../session.js';

type Form = Record<string, unknown>;

/**
 * A code from the authenticator (6 digits, shorter than any password) or a recovery code as it is
 * shown (with its hyphens, which no sensible password has), rather than a password.
 */
const SECOND_FACTOR = /^(\d{6}|[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})$/i;

export async function securitySettingsRoutes(app: FastifyInstance, ctx: PlatformContext): Promise<void> {
  async function securityPage(reply: FastifyReply, session: BrowserSession, outcome: { notice?: string; error?: string; status?: number } = {}) {
    const [status, ownedOrganizations] = await Promise.all([twoFactorStatus(ctx.store, session.user.id), organizationsOwnedBy(ctx.store, session.user.id)]);
    return sendPage(reply, SecurityPage({ ...settingsPageBase(ctx, session, reply), status, ownedOrganizations, notice: outcome.notice, error: outcome.error }), outcome.status ?? 200);
  }

  /**
   * The user's password or second factor, asked before two-factor sign-in is changed. Both count
   * against the account's limits, and the password also against the address's. Undefined when right.
   */
  async function proveOwner(request: FastifyRequest, reply: FastifyReply, session: BrowserSession, proof: string): Promise<{ status: 401 | 429; error: string } | undefined> {
    if (!SECOND_FACTOR.test(proof.trim())) return recheckPassword(ctx, request, reply, session, proof);
    const locked = await ctx.accountLimits.lockedFor(session.user.email);
    if (locked === 0) {
      const now = ctx.now();
      if (await ctx.store.transaction((tx) => useSecondFactor(ctx, tx, session.user.id, proof, now))) return undefined;
      const counted = await recordFailedCheck(ctx, session.user.email, 'second factor', requestMeta(request));
      if (counted.kind === 'wrong') return { status: 401, error: 'That password or code is not right.' };
    }
    reply.header('retry-after', String(Math.max(1, Math.ceil((await ctx.accountLimits.lockedFor(session.user.email)) / 1000))));
    return { status: 429, error: 'Too many wrong attempts. Wait a while and try again.' };
  }

  app.get('/settings/security', async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    return session && securityPage(reply, session);
  });

  app.post('/settings/security/two-factor/start', { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    if (!session) return reply;
    try {
      const enrolment = await startEnrolment(ctx, session.user);
      return sendPage(reply, EnrolmentPage({ ...settingsPageBase(ctx, session, reply), enrolment, askPassword: !recentlyAuthenticated(ctx, session) }));
    } catch (error) {
      if (!(error instanceof AccountError)) throw error;
      return securityPage(reply, session, { error: error.message, status: 409 });
    }
  });

  app.post('/settings/security/two-factor/confirm', { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    if (!session) return reply;
    const form = request.body as Form;
    const enrolment = await pendingEnrolment(ctx, session.user);
    if (!enrolment) return securityPage(reply, session, { error: 'Start the set-up again.', status: 409 });
    const askPassword = !recentlyAuthenticated(ctx, session);
    const again = (status: number, error: string) => sendPage(reply, EnrolmentPage({ ...settingsPageBase(ctx, session, reply), enrolment, askPassword, error }), status);
    // Turning it on with a session left open would let whoever holds the session lock the owner out.
    if (askPassword) {
      const refusal = await recheckPassword(ctx, request, reply, session, textParam(form, 'password'));
      if (refusal) return again(refusal.status, refusal.error);
    }
    const codes = await confirmEnrolment(ctx, session.user, textParam(form, 'code'), { ip: request.ip });
    if (!codes) return again(400, 'That code is not right. Check the time on your phone and enter the code shown now.');
    await addSecondFactorToSession(ctx.store, session.idHash);
    return sendPage(reply, RecoveryCodesPage({ ...settingsPageBase(ctx, session, reply), codes }));
  });

  app.post('/settings/security/recovery-codes', { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    if (!session) return reply;
    const refusal = await proveOwner(request, reply, session, textParam(request.body, 'proof'));
    if (refusal) return securityPage(reply, session, refusal);
    try {
      const codes = await regenerateRecoveryCodes(ctx, session.user, { ip: request.ip });
      return sendPage(reply, RecoveryCodesPage({ ...settingsPageBase(ctx, session, reply), codes }));
    } catch (error) {
      if (!(error instanceof AccountError)) throw error;
      return securityPage(reply, session, { error: error.message, status: 409 });
    }
  });

  app.post('/settings/security/two-factor/disable', { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    if (!session) return reply;
    const refusal = await proveOwner(request, reply, session, textParam(request.body, 'proof'));
    if (refusal) return securityPage(reply, session, refusal);
    await disableTwoFactor(ctx, session.user, { ip: request.ip });
    return securityPage(reply, session, { notice: 'Two-factor sign-in is off.' });
  });

  app.post('/settings/security/organizations', { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await requireSession(ctx, request, reply);
    if (!session) return reply;
    const form = request.body as Form;
    const required = textParam(form, 'require') === 'on';
    try {
      const { enabled } = await twoFactorStatus(ctx.store, session.user.id);
      await setTwoFactorRequirement(ctx, { userId: session.user.id, organizationId: textParam(form, 'organization_id'), required, ownerHasTwoFactor: enabled }, { ip: request.ip });
    } catch (error) {
      if (!(error instanceof AccountError)) throw error;
      return securityPage(reply, session, { error: error.message, status: 403 });
    }
    return securityPage(reply, session, { notice: required ? 'Apps now need a two-factor sign-in to read that organization’s data.' : 'That organization no longer requires two-factor sign-in.' });
  });
}
