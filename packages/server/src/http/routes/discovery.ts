/**
 * GET /.well-known/oauth-authorization-server (RFC 8414) and /.well-known/openid-configuration
 * (OpenID Connect Discovery): one document served at both, so they never disagree.
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../core/context.js';
import { METADATA_PATHS } from '../../core/endpoints.js';
import { authorizationServerMetadata } from '../../core/oauth/discovery.js';

export async function discoveryRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  const metadata = authorizationServerMetadata(ctx);
  for (const path of METADATA_PATHS) {
    app.get(path, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(metadata));
  }
}
