/** Sign-in, sign-out, sign-up and the signed-in home page. */
import type { FastifyInstance } from 'fastify';
import { confirmEmail, sendVerificationEmail } from '../../accounts/email-verification.js';
import { AccountError, authenticateUser, createUser } from '../../accounts/users.js';
import type { Context } from '../../context.js';
import { HomePage } from '../../pages/home.js';
import { LoginPage } from '../../pages/login.js';
import { sendPage } from '../../pages/render.js';
import { SignupPage } from '../../pages/signup.js';
import { EmailVerifiedPage, VerifyEmailPage } from '../../pages/verify-email.js';
import { ErrorPage } from '../../pages/error.js';
import { textParam } from '../params.js';
import { rateLimited } from '../rate-limits.js';
import { currentSession, safeReturnTo, signIn, signOut } from '../session.js';

type Form = Record<string, unknown>;

export async function accountRoutes(app: FastifyInstance, ctx: Context, homeLinks: Array<{ href: string; label: string }>): Promise<void> {
  const { platformName, signupEnabled } = ctx.config;

  app.get('/', async (request, reply) => {
    const session = await currentSession(ctx, request);
    if (!session) return reply.redirect('/login', 302);
    const { user } = session;
    const verificationSent = (request.query as Form).verification === 'sent';
    return sendPage(reply, HomePage({ platformName, email: user.email, emailVerified: user.email_verified === 1, verificationSent, csrfToken: reply.generateCsrf(), links: homeLinks }));
  });

  app.get('/verify-email', async (request, reply) => {
    const token = textParam(request.query as Form, 'token');
    return sendPage(reply, VerifyEmailPage({ platformName, csrfToken: reply.generateCsrf(), token }));
  });

  app.post('/verify-email', { config: rateLimited(ctx, 'login'), preHandler: app.csrfProtection }, async (request, reply) => {
    const user = await confirmEmail(ctx.db, (request.body as Form).token, ctx.now());
    if (!user) {
      const message = 'This confirmation link is invalid, expired or already used. Sign in to send a new one.';
      return sendPage(reply, ErrorPage({ platformName, title: 'Link not valid', message }), 400);
    }
    return sendPage(reply, EmailVerifiedPage({ platformName, email: user.email }));
  });

  app.post('/verify-email/resend', { config: rateLimited(ctx, 'login'), preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await currentSession(ctx, request);
    if (!session) return reply.redirect('/login', 303);
    if (session.user.email_verified === 0) await sendVerificationEmail(ctx.db, ctx.config, session.user, ctx.now());
    return reply.redirect('/?verification=sent', 303);
  });

  app.get('/login', async (request, reply) => {
    const returnTo = safeReturnTo((request.query as Form).return_to);
    return sendPage(reply, LoginPage({ platformName, csrfToken: reply.generateCsrf(), returnTo, signupEnabled }));
  });

  app.post('/login', { config: rateLimited(ctx, 'login'), preHandler: app.csrfProtection }, async (request, reply) => {
    const form = request.body as Form;
    const returnTo = safeReturnTo(form.return_to);
    const email = textParam(form, 'email');
    const user = await authenticateUser(ctx.db, email, textParam(form, 'password'));
    if (!user) {
      const page = LoginPage({ platformName, csrfToken: reply.generateCsrf(), returnTo, email, error: 'Incorrect email or password.', signupEnabled });
      return sendPage(reply, page, 401);
    }
    await signIn(ctx, request, reply, user.id);
    return reply.redirect(returnTo ?? '/', 303);
  });

  app.post('/logout', { preHandler: app.csrfProtection }, async (request, reply) => {
    await signOut(ctx, request, reply);
    return reply.redirect('/login', 303);
  });

  app.get('/signup', async (request, reply) => {
    if (!signupEnabled) return sendPage(reply, ErrorPage({ platformName, title: 'Sign-up is closed', message: 'Ask an administrator for an account.' }), 404);
    const returnTo = safeReturnTo((request.query as Form).return_to);
    return sendPage(reply, SignupPage({ platformName, csrfToken: reply.generateCsrf(), returnTo }));
  });

  app.post('/signup', { config: rateLimited(ctx, 'login'), preHandler: app.csrfProtection }, async (request, reply) => {
    if (!signupEnabled) return sendPage(reply, ErrorPage({ platformName, title: 'Sign-up is closed', message: 'Ask an administrator for an account.' }), 404);
    const form = request.body as Form;
    const returnTo = safeReturnTo(form.return_to);
    const input = { email: textParam(form, 'email'), password: textParam(form, 'password'), name: textParam(form, 'name') };
    try {
      const user = await createUser(ctx.db, input, ctx.now(), { sendVerificationFrom: ctx.config });
      await signIn(ctx, request, reply, user.id);
      return reply.redirect(returnTo ?? '/', 303);
    } catch (error) {
      if (!(error instanceof AccountError)) throw error;
      const page = SignupPage({ platformName, csrfToken: reply.generateCsrf(), returnTo, email: input.email, name: input.name, error: error.message });
      return sendPage(reply, page, 400);
    }
  });
}
