/** POST /oauth/introspect (RFC 7662): clients, and registered resource servers (`prs_` ids), each counted per client id. */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../core/context.js';
import { authenticateClient, readClientCredentials } from '../../core/oauth/client-auth.js';
import { introspectToken } from '../../core/oauth/introspect.js';
import { authenticateResourceServer, isResourceServerClientId } from '../../core/resources/registered.js';
import { noStore } from '../oauth-reply.js';
import { singleParams } from '../params.js';
import { rateLimited } from '../rate-limits.js';

export async function introspectRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  app.post('/oauth/introspect', { config: rateLimited(ctx, 'introspect') }, async (request, reply) => {
    const params = singleParams(request.body);
    const credentials = readClientCredentials(request.headers.authorization, params);
    const caller = credentials.clientId !== undefined && isResourceServerClientId(credentials.clientId)
      ? { resourceServer: await authenticateResourceServer(ctx.store, credentials.clientId, credentials.clientSecret) }
      : await authenticateClient(ctx, credentials, { ip: request.ip });
    return noStore(reply).send(await introspectToken(ctx, caller, params));
  });
}
