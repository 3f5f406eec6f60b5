/** GET /.well-known/oauth-authorization-server (RFC 8414). */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../context.js';
import { authorizationServerMetadata, type MetadataContributor } from '../../oauth/discovery.js';

export async function discoveryRoutes(app: FastifyInstance, ctx: Context, contributors: MetadataContributor[]): Promise<void> {
  const metadata = authorizationServerMetadata(ctx.config, contributors);
  app.get('/.well-known/oauth-authorization-server', async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=300').send(metadata),
  );
}
