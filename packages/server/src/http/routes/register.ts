/** POST /oauth/register: Dynamic Client Registration (RFC 7591), open to anyone, limited per IP. */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../core/context.js';
import { registerClient } from '../../core/clients/dynamic-registration.js';
import { OAuthError } from '../../core/oauth/errors.js';
import { noStore } from '../oauth-reply.js';
import { rateLimited } from '../rate-limits.js';

export async function registerRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  app.post('/oauth/register', { config: rateLimited(ctx, 'register') }, async (request, reply) => {
    // RFC 7591 §3.1: the metadata is a JSON document; a form would parse into strings that only look alike.
    if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
      throw new OAuthError('invalid_request', 'send the client metadata as application/json', 415);
    }
    const response = await registerClient(ctx, request.body, { ip: request.ip });
    return noStore(reply).status(201).send(response);
  });
}
