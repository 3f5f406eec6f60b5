/** POST /oauth/revoke (RFC 7009). */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../core/context.js';
import { authenticateClient, readClientCredentials } from '../../core/oauth/client-auth.js';
import { revokeToken } from '../../core/oauth/revoke.js';
import { noStore } from '../oauth-reply.js';
import { singleParams } from '../params.js';
import { rateLimited } from '../rate-limits.js';

export async function revokeRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  app.post('/oauth/revoke', { config: rateLimited(ctx, 'revoke') }, async (request, reply) => {
    const params = singleParams(request.body);
    const client = await authenticateClient(ctx, readClientCredentials(request.headers.authorization, params), { ip: request.ip });
    await revokeToken(ctx, client, params, { ip: request.ip });
    return noStore(reply).status(200).send();
  });
}
