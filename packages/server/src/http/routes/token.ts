/** POST /oauth/token (form or JSON body). */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../core/context.js';
import { readClientCredentials } from '../../core/oauth/client-auth.js';
import { handleTokenRequest } from '../../core/oauth/token-endpoint.js';
import { noStore } from '../oauth-reply.js';
import { singleParams } from '../params.js';
import { rateLimited } from '../rate-limits.js';

export async function tokenRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  app.post('/oauth/token', { config: rateLimited(ctx, 'token') }, async (request, reply) => {
    const params = singleParams(request.body);
    const credentials = readClientCredentials(request.headers.authorization, params);
    const response = await handleTokenRequest(ctx, credentials, params, { ip: request.ip });
    return noStore(reply).send(response);
  });
}
