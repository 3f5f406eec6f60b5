/** POST /oauth/introspect (RFC 7662). */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../core/context.js';
import { authenticateClient, readClientCredentials } from '../../core/oauth/client-auth.js';
import { introspectToken } from '../../core/oauth/introspect.js';
import { noStore } from '../oauth-reply.js';
import { singleParams } from '../params.js';
import { rateLimited } from '../rate-limits.js';

export async function introspectRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  app.post('/oauth/introspect', { config: rateLimited(ctx, 'introspect') }, async (request, reply) => {
    const params = singleParams(request.body);
    const client = await authenticateClient(ctx, readClientCredentials(request.headers.authorization, params), { ip: request.ip });
    return noStore(reply).send(await introspectToken(ctx, client, params));
  });
}
