/** Helpers for the signed-in settings pages. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Membership } from '../core/oauth/narrowing.js';
import { checkPassword } from '../platform/accounts/password-checks.js';
import type { BrowserSession } from '../platform/accounts/sessions.js';
import type { PlatformContext } from '../platform/context.js';
import type { SettingsPageBase } from './pages/settings/layout.js';
import { currentSession, requestMeta } from './session.js';

/** The session, or a redirect to sign in that comes back to this page. */
export async function requireSession(ctx: PlatformContext, request: FastifyRequest, reply: FastifyReply): Promise<BrowserSession | undefined> {
  const session = await currentSession(ctx, request);
  if (!session) {
    const path = request.method === 'GET' ? request.url : '/';
    await reply.redirect(`/login?return_to=${encodeURIComponent(path)}`, 303);
    return undefined;
  }
  return session;
}

/** The fields every settings page gets: platform, who is signed in, a CSRF token for its forms. */
export function settingsPageBase(ctx: PlatformContext, session: BrowserSession, reply: FastifyReply): SettingsPageBase {
  return { platformName: ctx.config.platformName, email: session.user.email, csrfToken: reply.generateCsrf() };
}

/**
 * A signed-in user's password asked again before a sensitive action: limited per address like
 * sign-in and counted against the account (password-checks.ts). Undefined when it is right;
 * otherwise the status and message to show (429 sets Retry-After).
 */
export async function recheckPassword(
  ctx: PlatformContext,
  request: FastifyRequest,
  reply: FastifyReply,
  session: BrowserSession,
  password: string,
): Promise<{ status: 401 | 429; error: string } | undefined> {
  const tooMany = (ms: number) => {
    reply.header('retry-after', String(Math.max(1, Math.ceil(ms / 1000))));
    return { status: 429 as const, error: 'Too many password attempts. Wait a while and try again.' };
  };
  const addressWait = await ctx.accountLimits.consumeAddressCheck(request.ip);
  if (addressWait > 0) return tooMany(addressWait);
  const checked = await checkPassword(ctx, session.user.email, password, requestMeta(request));
  if (checked.kind === 'locked') return tooMany(checked.retryAfterSeconds * 1000);
  if (checked.kind === 'ok' && checked.user.id === session.user.id) return undefined;
  return { status: 401, error: 'Incorrect password.' };
}

/** True when the user proved their password within `seconds` (sensitive actions ask again otherwise). */
export function recentlyAuthenticated(ctx: PlatformContext, session: BrowserSession, seconds = 600): boolean {
  return ctx.now() - session.authTime <= seconds * 1000;
}

/** Organization and project names by id, to show narrowings in words. */
export function membershipNames(memberships: Membership[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const { organization, projects } of memberships) {
    names.set(organization.id, organization.name);
    for (const project of projects) names.set(project.id, `${organization.name} / ${project.name}`);
  }
  return names;
}
