/** GET /.well-known/jwks.json and GET/POST /oauth/userinfo. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../../core/context.js';
import { OAuthError } from '../../core/oauth/errors.js';
import { userInfo } from '../../core/oidc/userinfo.js';
import { bearerToken, sendBearerError } from '../bearer.js';
import { JWKS_MAX_AGE, sendJwks } from '../oauth-reply.js';

export async function oidcRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  app.get('/.well-known/jwks.json', async (request, reply) =>
    sendJwks(request, reply, JSON.stringify(await ctx.signingKeys.jwks()), `public, max-age=${JWKS_MAX_AGE}`),
  );

  async function answer(request: FastifyRequest, reply: FastifyReply) {
    try {
      const token = bearerToken(request, { formBody: true }); // OpenID Connect Core §5.3.1
      if (token === undefined) return sendBearerError(reply, { realm: ctx.config.issuer }, undefined);
      const claims = await userInfo(ctx, token);
      return reply.header('cache-control', 'no-store').send(claims);
    } catch (error) {
      if (error instanceof OAuthError) return sendBearerError(reply, { realm: ctx.config.issuer }, error, error.code === 'insufficient_scope' ? 'openid' : undefined);
      throw error;
    }
  }
  app.get('/oauth/userinfo', answer);
  app.post('/oauth/userinfo', answer);
}
