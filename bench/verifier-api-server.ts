/**
 * The verifier benchmark's API server (a child process): a service of its own, as a platform's
 * API or an MCP server is, that checks Tessera's tokens with @tessera/resource-server (imported as
 * an installed package is, from its dist/) through the Fastify adapter. It serves one project read
 * three ways: `/opaque/projects/:id` for tokens introspected with this resource server's credentials
 * (answers cached, as by default, 1 s), `/jwt/projects/:id` for JWT access tokens checked against
 * the JWKS, and `/public/projects/:id`, the very same read with no authentication. The projects are
 * this service's own data, in memory. Prints `ready` once listening on 127.0.0.1.
 */
import Fastify, { type FastifyRequest } from 'fastify';
import { checkProjectAccess, createVerifier } from '@tessera/resource-server';
import { bearerAuth } from '@tessera/resource-server/fastify';

export interface VerifierApiSettings {
  issuer: string;
  projectId: string;
  opaque: { resource: string; clientId: string; clientSecret: string };
  jwt: { resource: string };
}

const settings = JSON.parse(process.env.BENCH_VERIFIER_API!) as VerifierApiSettings;
const projects = new Map([[settings.projectId, { id: settings.projectId, organizationId: 'org-bench', name: 'Bench Project', createdAt: '2026-12-01T00:00:00.000Z' }]]);

function readProject(request: FastifyRequest<{ Params: { id: string } }>) {
  const project = projects.get(request.params.id);
  if (!project) throw Object.assign(new Error('no such project'), { statusCode: 404 });
  return project;
}

const verifiers = {
  opaque: createVerifier({ issuer: settings.issuer, resource: settings.opaque.resource, introspection: { clientId: settings.opaque.clientId, clientSecret: settings.opaque.clientSecret } }),
  jwt: createVerifier({ issuer: settings.issuer, resource: settings.jwt.resource }),
};

const app = Fastify();
for (const [kind, verifier] of Object.entries(verifiers)) {
  app.get<{ Params: { id: string } }>(`/${kind}/projects/:id`, { preHandler: bearerAuth(verifier, { scopes: ['project:read'] }) }, async (request) => {
    const project = readProject(request);
    checkProjectAccess(request.auth!, project);
    return project;
  });
}
app.get<{ Params: { id: string } }>('/public/projects/:id', async (request) => readProject(request));

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
