/**
 * The platform API, the reference resource server. Every route declares its scope and the
 * organization or project it acts on; the resource-server plugin enforces both, for OAuth access
 * tokens and personal API keys alike.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PlatformContext } from '../../platform/context.js';
import { OAuthError } from '../../core/oauth/errors.js';
import { protectedResourceMetadataUrl, resourceServer } from '../resource-server/plugin.js';
import { RESOURCE_SCOPES } from '../../platform/scopes.js';
import { createAnnotation, deleteAnnotation, listAnnotations, presentAnnotation } from '../../platform/api/annotations.js';
import { listEventDefinitions, parseEventQuery, runEventQuery } from '../../platform/api/events.js';
import { listProjects, listVisibleOrganizations, presentOrganization, presentProject } from '../../platform/api/organizations.js';

type WithParams<T> = FastifyRequest<{ Params: T }>;
const organizationParam = (request: FastifyRequest) => (request as WithParams<{ id: string }>).params.id;
const projectParam = organizationParam;

export async function platformApiRoutes(app: FastifyInstance, ctx: PlatformContext): Promise<void> {
  const resource = ctx.config.apiResource;

  // RFC 9728: what clients need to know to get a token for this API.
  app.get(new URL(protectedResourceMetadataUrl(resource)).pathname, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=300').send({
      resource,
      authorization_servers: [ctx.config.issuer],
      scopes_supported: RESOURCE_SCOPES,
      bearer_methods_supported: ['header'],
      resource_name: `${ctx.config.platformName} API`,
    }),
  );

  await app.register(async (api) => {
    await api.register(resourceServer, { ctx, resource });

    api.get('/api/users/@me', { config: { access: { scope: 'user:read' } } }, async (request) => {
      const user = await ctx.store.accounts.findUser(request.principal!.userId);
      if (!user) throw new OAuthError('invalid_token', 'the user of this token no longer exists', 401);
      return { id: user.id, email: user.email, name: user.name, email_verified: user.email_verified === 1 };
    });

    api.get('/api/organizations', { config: { access: { scope: 'organization:read' } } }, async (request) => ({
      results: (await listVisibleOrganizations(ctx.store, request.principal!)).map(presentOrganization),
    }));

    api.get('/api/organizations/:id', { config: { access: { scope: 'organization:read', organization: organizationParam } } }, async (request) =>
      presentOrganization(request.organization!),
    );

    api.get('/api/organizations/:id/projects', { config: { access: { scope: 'project:read', organization: organizationParam } } }, async (request) => ({
      results: (await listProjects(ctx.store, request.organization!.id)).map(presentProject),
    }));

    api.get('/api/projects/:id', { config: { access: { scope: 'project:read', project: projectParam } } }, async (request) => presentProject(request.project!));

    api.get('/api/projects/:id/annotations', { config: { access: { scope: 'annotation:read', project: projectParam } } }, async (request) => ({
      results: (await listAnnotations(ctx.store, request.project!.id)).map(presentAnnotation),
    }));

    api.post('/api/projects/:id/annotations', { config: { access: { scope: 'annotation:write', project: projectParam } } }, async (request, reply) => {
      const created = await createAnnotation(ctx.store, { projectId: request.project!.id, userId: request.principal!.userId, body: request.body }, ctx.now());
      return reply.status(201).send(presentAnnotation(created));
    });

    api.delete('/api/projects/:id/annotations/:annotationId', { config: { access: { scope: 'annotation:write', project: projectParam } } }, async (request, reply) => {
      const { annotationId } = (request as WithParams<{ annotationId: string }>).params;
      if (!(await deleteAnnotation(ctx.store, request.project!.id, annotationId))) {
        return reply.status(404).send({ error: 'not_found', error_description: `annotation ${annotationId} does not exist in this project` });
      }
      return reply.status(204).send();
    });

    api.get('/api/projects/:id/event_definitions', { config: { access: { scope: 'event_definition:read', project: projectParam } } }, async (request) => ({
      results: (await listEventDefinitions(ctx.store, request.project!.id)).map((row) => ({ id: row.id, name: row.name, created_at: new Date(row.created_at).toISOString() })),
    }));

    api.post('/api/projects/:id/query', { config: { access: { scope: 'query:read', project: projectParam } } }, async (request) =>
      runEventQuery(ctx.store, request.project!.id, parseEventQuery(request.body, ctx.now())),
    );
  });
}
