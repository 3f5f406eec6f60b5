/** `tessera user|org|project`: accounts, organizations and projects, for setting up and running an instance. */
import type { Command } from 'commander';
import { createOrganization, createProject } from '../platform/accounts/organizations.js';
import { setPasswordAsAdmin } from '../platform/accounts/password-reset.js';
import { disableTwoFactor, hasTwoFactor } from '../platform/accounts/two-factor.js';
import { createUser, findUserByEmail } from '../platform/accounts/users.js';
import { seedSampleEvents } from '../platform/api/events.js';
import type { Repositories } from '../store/index.js';
import type { Organization, Project, User } from '../store/schema.js';
import { columns, iso, json, passwordStdin, readNewPassword, UsageError, type Cli, type Output, type PasswordOptions } from './output.js';

function userData(user: User) {
  return { id: user.id, email: user.email, name: user.name, email_verified: user.email_verified === 1, is_admin: user.is_admin === 1, created_at: iso(user.created_at) };
}

const organizationData = (organization: Organization) => ({ id: organization.id, name: organization.name, require_two_factor: organization.require_two_factor === 1, created_at: iso(organization.created_at) });

const projectData = (project: Project) => ({ id: project.id, name: project.name, organization_id: project.organization_id, created_at: iso(project.created_at) });

/** A user by address or id. */
async function findUser(store: Repositories, emailOrId: string): Promise<User> {
  const user = emailOrId.includes('@') ? await findUserByEmail(store, emailOrId) : await store.accounts.findUser(emailOrId);
  if (!user) throw new UsageError(`no user ${emailOrId}`);
  return user;
}

async function findOrganization(store: Repositories, id: string): Promise<Organization> {
  const organization = await store.organizations.find(id);
  if (!organization) throw new UsageError(`no organization ${id}`);
  return organization;
}

function addUserCommands(program: Command, cli: Cli): void {
  const user = program.command('user').description('manage users');
  user
    .command('create')
    .description('create a user; the first user of an instance is its admin. The password is asked for, or read with --password-stdin')
    .requiredOption('--email <email>')
    .option('--name <name>')
    .option('--verified', 'the address is known to be theirs (otherwise a confirmation link is mailed)')
    .addOption(passwordStdin())
    .option('--password <password>', 'the password on the command line (avoid: it stays in shell history)')
    .addOption(json())
    .action(async (options: Output & PasswordOptions & { email: string; name?: string; verified?: boolean }) => {
      const password = await readNewPassword(cli.io, options);
      const input = { email: options.email, name: options.name ?? null, password };
      const created = await cli.withRuntime(({ ctx }) => createUser(ctx.store, input, ctx.now(), { emailVerified: options.verified ?? false, sendVerificationFrom: ctx.config }));
      cli.print(options, { id: created.id, email: created.email, is_admin: created.is_admin === 1 }, `created user ${created.email} (${created.id})${created.is_admin ? ', instance admin' : ''}`);
    });

  user
    .command('list')
    .description('list every user, oldest first')
    .addOption(json())
    .action(async (options: Output) => {
      const users = await cli.withRuntime(({ ctx }) => ctx.store.accounts.listUsers());
      const rows = users.map((found) => [found.email, found.id, found.is_admin ? 'admin' : '', found.email_verified ? 'verified' : 'unverified']);
      cli.print(options, { users: users.map(userData) }, columns(rows, 'no users yet'));
    });

  user
    .command('show')
    .description('show a user: their organizations and roles, and whether two-factor sign-in is on')
    .argument('<email-or-id>')
    .addOption(json())
    .action(async (emailOrId: string, options: Output) => {
      const { found, organizations, twoFactor } = await cli.withRuntime(async ({ ctx }) => {
        const found = await findUser(ctx.store, emailOrId);
        return { found, organizations: await ctx.store.organizations.ofUser(found.id), twoFactor: await hasTwoFactor(ctx.store, found.id) };
      });
      const data = { ...userData(found), two_factor: twoFactor, organizations: organizations.map(({ id, name, role }) => ({ id, name, role })) };
      const human = [
        `${found.email} (${found.id})`,
        `name:           ${found.name ?? '—'}`,
        `address:        ${found.email_verified ? 'verified' : 'not verified'}`,
        `instance admin: ${found.is_admin ? 'yes' : 'no'}`,
        `two-factor:     ${twoFactor ? 'on' : 'off'}`,
        `created:        ${iso(found.created_at)}`,
        `organizations:  ${organizations.length ? organizations.map(({ name, id, role }) => `${name} (${id}, ${role})`).join(', ') : 'none'}`,
      ].join('\n');
      cli.print(options, data, human);
    });

  user
    .command('set-password')
    .description('set a user\'s password (asked for, or read with --password-stdin); signs them out everywhere and mails them')
    .requiredOption('--email <email>')
    .addOption(passwordStdin())
    .addOption(json())
    .action(async (options: Output & PasswordOptions & { email: string }) => {
      const password = await readNewPassword(cli.io, options);
      const { email, sessionsEnded } = await cli.withRuntime(async ({ ctx }) => {
        const found = await findUser(ctx.store, options.email);
        return { email: found.email, ...(await setPasswordAsAdmin(ctx, found, password, 'system:cli')) };
      });
      cli.print(options, { email, sessions_ended: sessionsEnded }, `password set for ${email}; ${sessionsEnded} signed-in ${sessionsEnded === 1 ? 'session' : 'sessions'} ended`);
    });

  user
    .command('reset-2fa')
    .description('turn two-factor sign-in off for a user who lost their authenticator and recovery codes (mails them; audit event two_factor.reset)')
    .requiredOption('--email <email>')
    .addOption(json())
    .action(async (options: Output & { email: string }) => {
      const { email, reset } = await cli.withRuntime(async ({ ctx }) => {
        const found = await findUser(ctx.store, options.email);
        return { email: found.email, reset: await disableTwoFactor(ctx, found, { actor: 'system:cli' }) };
      });
      cli.print(options, { email, two_factor_reset: reset }, reset ? `two-factor sign-in turned off for ${email}; they were sent a mail` : `${email} did not have two-factor sign-in on`);
    });
}

function addOrganizationCommands(program: Command, cli: Cli): void {
  const org = program.command('org').description('manage organizations');
  org
    .command('create')
    .description('create an organization owned by an existing user')
    .requiredOption('--name <name>')
    .requiredOption('--owner <email>', 'email of the owning user')
    .addOption(json())
    .action(async (options: Output & { name: string; owner: string }) => {
      const created = await cli.withRuntime(async ({ ctx }) => {
        const owner = await findUserByEmail(ctx.store, options.owner);
        if (!owner) throw new UsageError(`no user with email ${options.owner}`);
        return createOrganization(ctx.store, { name: options.name, ownerId: owner.id }, ctx.now());
      });
      cli.print(options, { id: created.id, name: created.name }, `created organization ${created.name} (${created.id})`);
    });

  org
    .command('list')
    .description('list every organization, by name')
    .addOption(json())
    .action(async (options: Output) => {
      const organizations = await cli.withRuntime(({ ctx }) => ctx.store.organizations.listAll());
      cli.print(options, { organizations: organizations.map(organizationData) }, columns(organizations.map(({ name, id }) => [name, id]), 'no organizations yet'));
    });

  org
    .command('show')
    .description('show an organization: its members with their roles, and its projects')
    .argument('<id>')
    .addOption(json())
    .action(async (id: string, options: Output) => {
      const { organization, members, projects } = await cli.withRuntime(async ({ ctx }) => ({
        organization: await findOrganization(ctx.store, id),
        members: await ctx.store.organizations.members(id),
        projects: await ctx.store.organizations.projectsOf([id]),
      }));
      const data = {
        ...organizationData(organization),
        members: members.map((member) => ({ user_id: member.user_id, email: member.email, role: member.role })),
        projects: projects.map(projectData),
      };
      const human = [
        `${organization.name} (${organization.id})`,
        `requires two-factor sign-in: ${organization.require_two_factor ? 'yes' : 'no'}`,
        'members:',
        ...members.map((member) => `  ${member.email}  ${member.role}`),
        'projects:',
        ...(projects.length ? projects.map((project) => `  ${project.name}  ${project.id}`) : ['  none']),
      ].join('\n');
      cli.print(options, data, human);
    });
}

function addProjectCommands(program: Command, cli: Cli): void {
  const project = program.command('project').description('manage projects');
  project
    .command('create')
    .description('create a project in an organization')
    .requiredOption('--org <id>', 'organization id')
    .requiredOption('--name <name>')
    .option('--sample-data', 'fill the project with 30 days of sample events for the platform API')
    .addOption(json())
    .action(async (options: Output & { org: string; name: string; sampleData?: boolean }) => {
      const { created, events } = await cli.withRuntime(async ({ ctx }) => {
        const project = await createProject(ctx.store, { organizationId: options.org, name: options.name }, ctx.now());
        return { created: project, events: options.sampleData ? await seedSampleEvents(ctx.store, project.id, ctx.now()) : 0 };
      });
      const human = `created project ${created.name} (${created.id})${events ? ` with ${events} sample events` : ''}`;
      cli.print(options, { id: created.id, name: created.name, organization_id: created.organization_id, sample_events: events }, human);
    });

  project
    .command('list')
    .description('list projects, of every organization or of one')
    .option('--org <id>', 'only this organization\'s projects')
    .addOption(json())
    .action(async (options: Output & { org?: string }) => {
      const { projects, names } = await cli.withRuntime(async ({ ctx }) => {
        if (options.org) await findOrganization(ctx.store, options.org);
        const projects = options.org ? await ctx.store.organizations.projectsOf([options.org]) : await ctx.store.organizations.listProjects();
        const organizations = await ctx.store.organizations.list([...new Set(projects.map((found) => found.organization_id))]);
        return { projects, names: new Map(organizations.map(({ id, name }) => [id, name])) };
      });
      const rows = projects.map((found) => [found.name, found.id, names.get(found.organization_id) ?? found.organization_id]);
      cli.print(options, { projects: projects.map(projectData) }, columns(rows, 'no projects yet'));
    });

  project
    .command('show')
    .description('show a project and its organization')
    .argument('<id>')
    .addOption(json())
    .action(async (id: string, options: Output) => {
      const { found, organization } = await cli.withRuntime(async ({ ctx }) => {
        const found = await ctx.store.organizations.findProject(id);
        if (!found) throw new UsageError(`no project ${id}`);
        return { found, organization: await findOrganization(ctx.store, found.organization_id) };
      });
      const human = [`${found.name} (${found.id})`, `organization: ${organization.name} (${organization.id})`, `created:      ${iso(found.created_at)}`].join('\n');
      cli.print(options, { ...projectData(found), organization_name: organization.name }, human);
    });
}

export function addAccountCommands(program: Command, cli: Cli): void {
  addUserCommands(program, cli);
  addOrganizationCommands(program, cli);
  addProjectCommands(program, cli);
}
