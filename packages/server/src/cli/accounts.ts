/** `tessera user|org|project`: accounts, organizations and projects, for setting up an instance. */
import type { Command } from 'commander';
import { createOrganization, createProject } from '../platform/accounts/organizations.js';
import { disableTwoFactor } from '../platform/accounts/two-factor.js';
import { createUser, findUserByEmail } from '../platform/accounts/users.js';
import { seedSampleEvents } from '../platform/api/events.js';
import { json, UsageError, type Cli, type Output } from './output.js';

export function addAccountCommands(program: Command, cli: Cli): void {
  const user = program.command('user').description('manage users');
  user
    .command('create')
    .requiredOption('--email <email>')
    .requiredOption('--password <password>')
    .option('--name <name>')
    .option('--verified', 'the address is known to be theirs (otherwise a confirmation link is mailed)')
    .addOption(json())
    .action(async (options: Output & { email: string; password: string; name?: string; verified?: boolean }) => {
      const created = await cli.withRuntime(({ ctx }) => createUser(ctx.store, options, ctx.now(), { emailVerified: options.verified ?? false, sendVerificationFrom: ctx.config }));
      cli.print(options, { id: created.id, email: created.email, is_admin: created.is_admin === 1 }, `created user ${created.email} (${created.id})${created.is_admin ? ', instance admin' : ''}`);
    });

  user
    .command('reset-2fa')
    .description('turn two-factor sign-in off for a user who lost their authenticator and recovery codes (mails them; audit event two_factor.reset)')
    .requiredOption('--email <email>')
    .addOption(json())
    .action(async (options: Output & { email: string }) => {
      const { email, reset } = await cli.withRuntime(async ({ ctx }) => {
        const found = await findUserByEmail(ctx.store, options.email);
        if (!found) throw new UsageError(`no user with email ${options.email}`);
        return { email: found.email, reset: await disableTwoFactor(ctx, found, { actor: 'system:cli' }) };
      });
      cli.print(options, { email, two_factor_reset: reset }, reset ? `two-factor sign-in turned off for ${email}; they were sent a mail` : `${email} did not have two-factor sign-in on`);
    });

  const org = program.command('org').description('manage organizations');
  org
    .command('create')
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

  const project = program.command('project').description('manage projects');
  project
    .command('create')
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
}
