/** "Forgot password?": the request form, the mailed link's form, and setting the new password. */
import type { FastifyInstance } from 'fastify';
import { requestPasswordReset, resetPassword, userOfResetLink } from '../../platform/accounts/password-reset.js';
import type { PlatformContext } from '../../platform/context.js';
import { ErrorPage } from '../pages/error.js';
import { ForgotPasswordPage, ResetPasswordPage, ResetSentPage } from '../pages/password-reset.js';
import { sendPage } from '../pages/render.js';
import { textParam } from '../params.js';
import { rateLimited } from '../rate-limits.js';
import { accountErrorStatus } from './account.js';

type Form = Record<string, unknown>;

export async function passwordResetRoutes(app: FastifyInstance, ctx: PlatformContext): Promise<void> {
  const { platformName } = ctx.config;
  const invalidLink = () =>
    ErrorPage({ platformName, title: 'Link not valid', message: 'This reset link is invalid, expired or already used. Ask for a new one from the sign-in page.' });

  app.get('/password/forgot', async (_request, reply) => sendPage(reply, ForgotPasswordPage({ platformName, csrfToken: reply.generateCsrf() })));

  app.post('/password/forgot', { config: rateLimited(ctx, 'login'), preHandler: app.csrfProtection }, async (request, reply) => {
    const email = textParam(request.body, 'email').trim();
    await requestPasswordReset(ctx, email, { ip: request.ip });
    return sendPage(reply, ResetSentPage({ platformName, email }));
  });

  app.get('/password/reset', async (request, reply) => {
    const token = textParam(request.query as Form, 'token');
    const user = await userOfResetLink(ctx, token);
    if (!user) return sendPage(reply, invalidLink(), 400);
    return sendPage(reply, ResetPasswordPage({ platformName, csrfToken: reply.generateCsrf(), token, email: user.email }));
  });

  app.post('/password/reset', { config: rateLimited(ctx, 'login'), preHandler: app.csrfProtection }, async (request, reply) => {
    const token = textParam(request.body, 'token');
    try {
      const user = await resetPassword(ctx, token, textParam(request.body, 'password'), { ip: request.ip });
      if (!user) return sendPage(reply, invalidLink(), 400);
      return reply.redirect('/login?notice=password-changed', 303);
    } catch (error) {
      const status = accountErrorStatus(error);
      const user = await userOfResetLink(ctx, token);
      if (!user) return sendPage(reply, invalidLink(), 400);
      return sendPage(reply, ResetPasswordPage({ platformName, csrfToken: reply.generateCsrf(), token, email: user.email, error: (error as Error).message }), status);
    }
  });
}
