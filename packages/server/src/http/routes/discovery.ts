/**
 * GET /.well-known/oauth-authorization-server (RFC 8414) and /.well-known/openid-configuration
 * (OpenID Connect Discovery): one document served at both, so they never disagree.
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../core/context.js';
import { authorizationServerMetadata, type MetadataContributor } from '../../core/oauth/discovery.js';

export async function discoveryRoutes(app: FastifyInstance, ctx: Context, contributors: MetadataContributor[]): Promise<void> {
  const metadata = authorizationServerMetadata(ctx.config, contributors);
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(path, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(metadata));
  }
}
