/**
 * GET /oauth/client_display?client_id=…: a client's public display data (core/clients/display.ts),
 * for the region front's picker. Public and cacheable; an unknown id gets a bare 404.
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../core/context.js';
import { ENDPOINTS } from '../../core/endpoints.js';
import { findClientDisplay } from '../../core/clients/display.js';
import { OAuthError } from '../../core/oauth/errors.js';
import { rateLimited } from '../rate-limits.js';

/** A renamed app or a new logo reaches the picker within a minute (plus the front's own minute). */
const DISPLAY_MAX_AGE = 60;

export async function clientDisplayRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  app.get(ENDPOINTS.clientDisplay, { config: rateLimited(ctx, 'client_display') }, async (request, reply) => {
    const clientId = (request.query as Record<string, unknown>).client_id;
    if (typeof clientId !== 'string' || clientId === '') throw new OAuthError('invalid_request', 'client_id is required, once');
    const display = await findClientDisplay(ctx.store, clientId);
    reply.header('cache-control', `public, max-age=${DISPLAY_MAX_AGE}`);
    if (!display) return reply.status(404).send({ error: 'not_found', error_description: 'no client with this id is registered here' });
    return reply.send(display);
  });
}
