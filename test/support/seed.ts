/** Quick fixtures: users, organizations, projects and clients. */
import { randomBytes } from 'node:crypto';
import { createOrganization, createProject } from '../../packages/server/src/platform/accounts/organizations.js';
import { createUser } from '../../packages/server/src/platform/accounts/users.js';
import type { Context } from '../../packages/server/src/core/context.js';
import { createClient, type NewClientInput } from '../../packages/server/src/core/clients/registered.js';

export const PASSWORD = 'correct horse battery staple';

export async function seedUser(ctx: Context, email = `user-${randomBytes(4).toString('hex')}@example.com`) {
  return createUser(ctx.store, { email, password: PASSWORD, name: 'Ada Lovelace' }, ctx.now());
}

export async function seedOrganization(ctx: Context, ownerId: string, name = 'Acme', projects: string[] = ['Web', 'Mobile']) {
  const organization = await createOrganization(ctx.store, { name, ownerId }, ctx.now());
  const created = [];
  for (const project of projects) created.push(await createProject(ctx.store, { organizationId: organization.id, name: project }, ctx.now()));
  return { organization, projects: created };
}

export async function seedClient(ctx: Context, input: Partial<NewClientInput> = {}) {
  return createClient(
    ctx.store,
    {
      kind: 'registered',
      name: 'Test App',
      redirectUris: ['http://127.0.0.1:9999/callback'],
      isPublic: false,
      ...input,
    },
    ctx.now(),
  );
}
