/** Sign-in (with its two-factor step), sign-out, sign-up (by mailed link) and the signed-in home page. */
import type { FastifyInstance } from 'fastify';
import { confirmEmail, sendVerificationEmail } from '../../platform/accounts/email-verification.js';
import { checkPassword, LOCKED_MESSAGE, recordFailedCheck } from '../../platform/accounts/password-checks.js';
import { completePendingSignIn, PENDING_SIGN_IN_SECONDS, pendingSignInUser, startPendingSignIn } from '../../platform/accounts/pending-sign-ins.js';
import { PasswordCheckUnavailable } from '../../platform/accounts/password-strength.js';
import { confirmSignup, requestSignup } from '../../platform/accounts/signup.js';
import { hasTwoFactor } from '../../platform/accounts/two-factor.js';
import { AccountError } from '../../platform/accounts/users.js';
import type { PlatformContext } from '../../platform/context.js';
import { ENDPOINTS } from '../../core/endpoints.js';
import { HomePage } from '../pages/home.js';
import { LoginPage } from '../pages/login.js';
import { sendPage } from '../pages/render.js';
import { ConfirmSignupPage, SignupPage, SignupSentPage } from '../pages/signup.js';
import { EmailVerifiedPage, VerifyEmailPage } from '../pages/verify-email.js';
import { ErrorPage } from '../pages/error.js';
import { TwoFactorSignInPage } from '../pages/two-factor.js';
import { textParam } from '../params.js';
import { rateLimited } from '../rate-limits.js';
import { cookieOptions, currentSession, requestMeta, safeReturnTo, signIn, signOut } from '../session.js';

type Form = Record<string, unknown>;

/** What the sign-in page may say about how the user got there; anything else in `notice` is ignored. */
const LOGIN_NOTICES: Record<string, string> = {
  'password-changed': 'Your password was changed and every device was signed out. Sign in with the new password.',
  'sign-in-expired': 'That sign-in expired. Enter your password again.',
  'code-attempts': 'Too many wrong codes. Enter your password again.',
};

/** Holds a pending two-factor sign-in (pending-sign-ins.ts) between the password and the code. */
const PENDING_SIGN_IN_COOKIE = 'tessera_pending_sign_in';

/**
 * The status for a refused account form: 400 for a reason the user can fix, 503 when the
 * password could not be checked just now. Anything else is a failure of the server.
 */
export function accountErrorStatus(error: unknown): 400 | 503 {
  if (error instanceof AccountError) return 400;
  if (error instanceof PasswordCheckUnavailable) return 503;
  throw error;
}

export async function accountRoutes(app: FastifyInstance, ctx: PlatformContext): Promise<void> {
  const { platformName, signupEnabled } = ctx.config;
  const signupClosed = () => ErrorPage({ platformName, title: 'Sign-up is closed', message: 'Ask an administrator for an account.' });

  app.get('/', async (request, reply) => {
    const session = await currentSession(ctx, request);
    if (!session) return reply.redirect('/login', 302);
    const { user } = session;
    const verificationSent = (request.query as Form).verification === 'sent';
    return sendPage(reply, HomePage({ platformName, email: user.email, emailVerified: user.email_verified === 1, verificationSent, csrfToken: reply.generateCsrf() }));
  });

  app.get('/verify-email', async (request, reply) => {
    const token = textParam(request.query as Form, 'token');
    return sendPage(reply, VerifyEmailPage({ platformName, csrfToken: reply.generateCsrf(), token }));
  });

  app.post('/verify-email', { config: rateLimited(ctx, 'login'), preHandler: app.csrfProtection }, async (request, reply) => {
    const user = await confirmEmail(ctx.store, (request.body as Form).token, ctx.now());
    if (!user) {
      const message = 'This confirmation link is invalid, expired or already used. Sign in to send a new one.';
      return sendPage(reply, ErrorPage({ platformName, title: 'Link not valid', message }), 400);
    }
    return sendPage(reply, EmailVerifiedPage({ platformName, email: user.email }));
  });

  app.post('/verify-email/resend', { config: rateLimited(ctx, 'login'), preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await currentSession(ctx, request);
    if (!session) return reply.redirect('/login', 303);
    if (session.user.email_verified === 0) await sendVerificationEmail(ctx.store, ctx.config, session.user, ctx.now());
    return reply.redirect('/?verification=sent', 303);
  });

  /** The name of the app whose authorization request the sign-in will return to, if any. */
  async function appNameFor(returnTo: string | undefined): Promise<string | undefined> {
    if (!returnTo?.startsWith(`${ENDPOINTS.authorize}?`)) return undefined;
    const clientId = new URL(returnTo, 'http://tessera.invalid').searchParams.get('client_id');
    // The page does not depend on it: a client that cannot be read now is simply not named.
    return clientId ? (await ctx.clients.resolve(clientId).catch(() => undefined))?.name : undefined;
  }

  app.get('/login', async (request, reply) => {
    const query = request.query as Form;
    const returnTo = safeReturnTo(query.return_to);
    const notice = LOGIN_NOTICES[textParam(query, 'notice')];
    return sendPage(reply, LoginPage({ platformName, csrfToken: reply.generateCsrf(), returnTo, notice, signupEnabled, appName: await appNameFor(returnTo) }));
  });

  app.post('/login', { config: rateLimited(ctx, 'login'), preHandler: app.csrfProtection }, async (request, reply) => {
    const form = request.body as Form;
    const returnTo = safeReturnTo(form.return_to);
    const email = textParam(form, 'email');
    const checked = await checkPassword(ctx, email, textParam(form, 'password'), requestMeta(request));
    if (checked.kind !== 'ok') {
      const locked = checked.kind === 'locked';
      if (locked) reply.header('retry-after', String(checked.retryAfterSeconds));
      const error = locked ? LOCKED_MESSAGE : 'Incorrect email or password.';
      const page = LoginPage({ platformName, csrfToken: reply.generateCsrf(), returnTo, email, error, signupEnabled, appName: await appNameFor(returnTo) });
      return sendPage(reply, page, locked ? 429 : 401);
    }
    if (await hasTwoFactor(ctx.store, checked.user.id)) {
      const pending = await startPendingSignIn(ctx, checked.user.id);
      reply.setCookie(PENDING_SIGN_IN_COOKIE, pending, { ...cookieOptions(ctx), path: '/login', maxAge: PENDING_SIGN_IN_SECONDS });
      return reply.redirect(`/login/two-factor${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`, 303);
    }
    await ctx.accountLimits.clearFailures(checked.user.email);
    await signIn(ctx, request, reply, checked.user.id, ['pwd']);
    return reply.redirect(returnTo ?? '/', 303);
  });

  app.get('/login/two-factor', async (request, reply) => {
    if (!(await pendingSignInUser(ctx, request.cookies[PENDING_SIGN_IN_COOKIE]))) return reply.redirect('/login', 303);
    const returnTo = safeReturnTo((request.query as Form).return_to);
    return sendPage(reply, TwoFactorSignInPage({ platformName, csrfToken: reply.generateCsrf(), returnTo }));
  });

  app.post('/login/two-factor', { config: rateLimited(ctx, 'login'), preHandler: app.csrfProtection }, async (request, reply) => {
    const form = request.body as Form;
    const returnTo = safeReturnTo(form.return_to);
    const token = request.cookies[PENDING_SIGN_IN_COOKIE];
    const endPending = (notice?: string) => {
      reply.clearCookie(PENDING_SIGN_IN_COOKIE, { ...cookieOptions(ctx), path: '/login' });
      const query = new URLSearchParams({ ...(notice ? { notice } : {}), ...(returnTo ? { return_to: returnTo } : {}) });
      return reply.redirect(`/login${query.size ? `?${query}` : ''}`, 303);
    };
    const user = await pendingSignInUser(ctx, token);
    if (!user) return endPending('sign-in-expired');
    const codePage = (status: number, error: string) => sendPage(reply, TwoFactorSignInPage({ platformName, csrfToken: reply.generateCsrf(), returnTo, error }), status);
    const locked = await ctx.accountLimits.lockedFor(user.email);
    if (locked > 0) {
      reply.header('retry-after', String(Math.ceil(locked / 1000)));
      return codePage(429, LOCKED_MESSAGE);
    }
    const outcome = await completePendingSignIn(ctx, token, textParam(form, 'code'), { ip: request.ip });
    if (outcome.kind === 'expired') return endPending('sign-in-expired');
    if (outcome.kind === 'wrong') {
      const counted = await recordFailedCheck(ctx, user.email, 'second factor', requestMeta(request));
      if (counted.kind === 'locked') {
        reply.header('retry-after', String(counted.retryAfterSeconds));
        return codePage(429, LOCKED_MESSAGE);
      }
      if (outcome.attemptsLeft === 0) return endPending('code-attempts');
      return codePage(401, `That code is not right. ${outcome.attemptsLeft} ${outcome.attemptsLeft === 1 ? 'try' : 'tries'} left.`);
    }
    reply.clearCookie(PENDING_SIGN_IN_COOKIE, { ...cookieOptions(ctx), path: '/login' });
    await ctx.accountLimits.clearFailures(user.email);
    await signIn(ctx, request, reply, user.id, ['pwd', 'otp']);
    return reply.redirect(returnTo ?? '/', 303);
  });

  app.post('/logout', { preHandler: app.csrfProtection }, async (request, reply) => {
    await signOut(ctx, request, reply);
    return reply.redirect('/login', 303);
  });

  app.get('/signup', async (request, reply) => {
    if (!signupEnabled) return sendPage(reply, signupClosed(), 404);
    const returnTo = safeReturnTo((request.query as Form).return_to);
    return sendPage(reply, SignupPage({ platformName, csrfToken: reply.generateCsrf(), returnTo }));
  });

  app.post('/signup', { config: rateLimited(ctx, 'login'), preHandler: app.csrfProtection }, async (request, reply) => {
    if (!signupEnabled) return sendPage(reply, signupClosed(), 404);
    const form = request.body as Form;
    const returnTo = safeReturnTo(form.return_to);
    const input = { email: textParam(form, 'email'), password: textParam(form, 'password'), name: textParam(form, 'name') };
    try {
      const { email } = await requestSignup(ctx, input, returnTo, { ip: request.ip });
      return sendPage(reply, SignupSentPage({ platformName, email }));
    } catch (error) {
      const status = accountErrorStatus(error);
      const page = SignupPage({ platformName, csrfToken: reply.generateCsrf(), returnTo, email: input.email, name: input.name, error: (error as Error).message });
      return sendPage(reply, page, status);
    }
  });

  app.get('/signup/confirm', async (request, reply) => {
    if (!signupEnabled) return sendPage(reply, signupClosed(), 404);
    const token = textParam(request.query as Form, 'token');
    return sendPage(reply, ConfirmSignupPage({ platformName, csrfToken: reply.generateCsrf(), token }));
  });

  app.post('/signup/confirm', { config: rateLimited(ctx, 'login'), preHandler: app.csrfProtection }, async (request, reply) => {
    // Sign-up closed since the link was sent: the link creates nothing either.
    if (!signupEnabled) return sendPage(reply, signupClosed(), 404);
    const confirmed = await confirmSignup(ctx, (request.body as Form).token, { ip: request.ip });
    if (confirmed.kind === 'invalid') {
      const message = 'This link is invalid, expired or already used. Sign up again to get a new one.';
      return sendPage(reply, ErrorPage({ platformName, title: 'Link not valid', message }), 400);
    }
    if (confirmed.kind === 'taken') {
      const message = `${confirmed.email} already has an account. Sign in, or reset its password if you forgot it.`;
      return sendPage(reply, ErrorPage({ platformName, title: 'Account already exists', message }), 409);
    }
    await signIn(ctx, request, reply, confirmed.user.id, ['pwd']);
    return reply.redirect(safeReturnTo(confirmed.returnTo) ?? '/', 303);
  });
}
