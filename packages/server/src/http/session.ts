/** The browser session cookie: HttpOnly, SameSite=Lax, Secure when the issuer is https. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestMeta } from '../core/audit.js';
import { deleteSession, findSession, startSession, type BrowserSession } from '../platform/accounts/sessions.js';
import type { AuthenticationMethod } from '../core/oidc/acr.js';
import { isHttps } from '../config.js';
import type { PlatformContext } from '../platform/context.js';

export const SESSION_COOKIE = 'tessera_session';

const loaded = new WeakMap<FastifyRequest, Promise<BrowserSession | undefined>>();

export function currentSession(ctx: PlatformContext, request: FastifyRequest): Promise<BrowserSession | undefined> {
  let session = loaded.get(request);
  if (!session) {
    session = findSession(ctx.store, request.cookies[SESSION_COOKIE], ctx.now());
    loaded.set(request, session);
  }
  return session;
}

export function cookieOptions(ctx: PlatformContext) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: isHttps(ctx.config.baseUrl) };
}

/** Starts a new session (a new id every sign-in) and ends the one the browser had before. */
export async function signIn(ctx: PlatformContext, request: FastifyRequest, reply: FastifyReply, userId: string, amr: AuthenticationMethod[]): Promise<void> {
  await deleteSession(ctx.store, request.cookies[SESSION_COOKIE]);
  const token = await startSession(ctx.store, userId, amr, ctx.now(), ctx.config.ttl.session, requestMeta(request));
  reply.setCookie(SESSION_COOKIE, token, { ...cookieOptions(ctx), maxAge: ctx.config.ttl.session });
}

/** Where a request came from, for audit events: the client's address and its browser. */
export function requestMeta(request: FastifyRequest): RequestMeta {
  const userAgent = request.headers['user-agent'];
  // Bounded: the header is the client's to fill.
  return { ip: request.ip, userAgent: typeof userAgent === 'string' && userAgent ? userAgent.slice(0, 512) : undefined };
}

export async function signOut(ctx: PlatformContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await deleteSession(ctx.store, request.cookies[SESSION_COOKIE]);
  reply.clearCookie(SESSION_COOKIE, cookieOptions(ctx));
}

const RETURN_PATHS = ['/oauth/authorize', '/device', '/settings', '/'];

/** A same-origin path to return to after sign-in, or undefined: never an open redirect. */
export function safeReturnTo(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return undefined;
  if (/[\u0000-\u001f\u007f]/.test(value) || value.length > 8192) return undefined;
  let url: URL;
  try {
    url = new URL(value, 'http://tessera.invalid');
  } catch {
    return undefined;
  }
  if (url.origin !== 'http://tessera.invalid') return undefined;
  const allowed = RETURN_PATHS.some((path) => url.pathname === path || (path !== '/' && url.pathname.startsWith(path + '/')));
  return allowed ? url.pathname + url.search : undefined;
}
