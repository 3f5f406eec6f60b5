/** GET /.well-known/jwks.json and GET/POST /oauth/userinfo. */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../../context.js';
import { OAuthError } from '../../oauth/errors.js';
import { userInfo } from '../../oidc/userinfo.js';
import { bearerToken, sendBearerError } from '../bearer.js';

/** Shorter than the signing key publish delay, so a new key is fetched before it signs. */
const JWKS_MAX_AGE = 300;

export async function oidcRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  app.get('/.well-known/jwks.json', async (request, reply) => {
    const body = JSON.stringify(await ctx.signingKeys.jwks());
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE}`).header('etag', etag).header('content-type', 'application/jwk-set+json');
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    return reply.send(body);
  });

  async function answer(request: FastifyRequest, reply: FastifyReply) {
    try {
      const token = bearerToken(request);
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
