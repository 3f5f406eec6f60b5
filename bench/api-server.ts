/**
 * The API benchmark's server (a child process): the resource-server toolkit mounted the way a
 * platform mounts it, guarding a project read, beside the very same read with no authentication.
 * Seeds its own fixtures (an organization, a project, access tokens), writes them to BENCH_OUTPUT
 * and prints `ready`.
 */
import { writeFileSync } from 'node:fs';
import Fastify from 'fastify';
import { createOrganization, createProject } from '../packages/server/src/platform/accounts/organizations.js';
import { loadConfig } from '../packages/server/src/config.js';
import { presentProject } from '../packages/server/src/platform/api/organizations.js';
import { resourceServer } from '../packages/server/src/http/resource-server/plugin.js';
import { createRuntime } from '../packages/server/src/runtime.js';
import { seedFamilies } from './tessera-seed.js';

const config = loadConfig();
const { ctx } = await createRuntime(config);
const now = ctx.now();
// Unbound tokens (no resource), so the toolkit accepts them whatever resource it guards.
const { userId, accessTokens } = await seedFamilies(ctx, { count: 200, resource: null });
const organization = await createOrganization(ctx.store, { name: 'Bench Org', ownerId: userId }, now);
const project = await createProject(ctx.store, { organizationId: organization.id, name: 'Bench Project' }, now);

const app = Fastify();
const readProject = async (id: string) => (await ctx.store.organizations.findProject(id))!;
await app.register(async (api) => {
  await api.register(resourceServer, { ctx, resource: config.apiResource });
  api.get('/api/projects/:id', { config: { access: { scope: 'project:read', project: (request) => (request.params as { id: string }).id } } }, async (request) =>
    presentProject(request.project!),
  );
});
app.get('/public/projects/:id', async (request) => presentProject(await readProject((request.params as { id: string }).id)));
await app.listen({ port: config.port, host: '127.0.0.1' });
writeFileSync(process.env.BENCH_OUTPUT!, JSON.stringify({ projectId: project.id, accessTokens }));
process.stdout.write('ready\n');
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
