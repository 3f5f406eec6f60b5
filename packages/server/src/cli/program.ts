/**
 * The `tessera` command. It reads the same environment as the server, so it writes to the
 * database the server uses. Every command takes --json for machine-readable output.
 */
import { Command, CommanderError, Option } from 'commander';
import type { FastifyInstance } from 'fastify';
import { createOrganization, createProject } from '../platform/accounts/organizations.js';
import { disableTwoFactor } from '../platform/accounts/two-factor.js';
import { AccountError, createUser, findUserByEmail } from '../platform/accounts/users.js';
import { ConfigError, loadConfig, loadFrontConfig } from '../config.js';
import { grantTypesProblem, redirectUrisProblem, scopeCeilingProblem } from '../core/clients/metadata-rules.js';
import { createClient } from '../core/clients/registered.js';
import { DEFAULT_GRANT_TYPES, isGrantType, type GrantType } from '../core/oauth/grant-types/index.js';
import { purgeExpired } from '../core/purge.js';
import { parseScope } from '../core/oauth/scopes.js';
import { seedSampleEvents } from '../platform/api/events.js';
import { startFront } from '../http/front.js';
import { createRuntime, startServer, type Runtime } from '../server.js';
import { migrateToLatest, openDatabase } from '../store/database.js';
import { closeOnSignals } from '../http/shutdown.js';
import { addAppCommands } from './apps.js';
import { startBanner } from './banner.js';
import { addCimdCommands } from './cimd.js';
import { addKeyCommands } from './keys.js';
import { addMailCommands } from './mail.js';
import { addSecurityCommands } from './security.js';

/** A mistake in the command line or its values: printed as one clear line, exit code 2. */
export class UsageError extends Error {}

export type Output = { json?: boolean };

export function print(options: Output, data: Record<string, unknown>, human: string): void {
  process.stdout.write(options.json ? JSON.stringify(data) + '\n' : human + '\n');
}

export async function withRuntime<T>(fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await createRuntime(loadConfig());
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

/** The same rule as developer apps and dynamic registration (https, loopback http, or a private-use scheme). */
function validateRedirectUris(uris: string[]): string[] {
  const found = redirectUrisProblem(uris);
  if (found) throw new UsageError(found.uri === undefined ? `--redirect-uri: ${found.problem}` : `--redirect-uri ${found.uri} ${found.problem}`);
  return [...new Set(uris)];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The grant types of `client create`, by default the code flow with refresh tokens; the rule every client follows. */
function validateGrantTypes(grantTypes: string[] | undefined): GrantType[] {
  if (grantTypes === undefined) return [...DEFAULT_GRANT_TYPES];
  const problem = grantTypesProblem(grantTypes);
  if (problem) throw new UsageError(`--grant-type ${problem}`);
  return [...new Set(grantTypes.filter(isGrantType))];
}

/** A --limit option's value: an integer from 1 to `max`. */
export function parseLimit(raw: string, max: number): number {
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new UsageError(`--limit must be an integer from 1 to ${max}`);
  return limit;
}
export const json = () => new Option('--json', 'print machine-readable JSON');

/** Every failure a server expects is handled where it happens; one that is not is logged as a JSON line, not a crash. */
function logUnhandledRejections(app: FastifyInstance): void {
  process.on('unhandledRejection', (reason) => app.log.error({ err: { message: reason instanceof Error ? reason.message : String(reason) } }, 'unhandled rejection'));
}

export function buildCli(): Command {
  const program = new Command('tessera')
    .description('Tessera OAuth 2.1 authorization server')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('start')
    .description('run the server (PORT, TESSERA_ISSUER, DATABASE_URL, REDIS_URL from the environment)')
    .action(async () => {
      const config = loadConfig();
      const { app, runtime, ready } = await startServer(config);
      logUnhandledRejections(app);
      closeOnSignals(app, config.shutdownTimeoutSeconds);
      ready.then(
        (serving) => {
          if (!serving) return;
          startBanner(config, runtime, app.metricsPort).then(
            (banner) => process.stderr.write(banner),
            (error: Error) => app.log.warn({ err: { message: error.message } }, 'the start banner could not be written'),
          );
        },
        (error: Error) => {
          app.log.fatal({ err: { message: error.message } }, 'the database could not be prepared');
          void app.close().finally(() => process.exit(1));
        },
      );
    });

  program
    .command('front')
    .description('run the region-agnostic front (PORT, TESSERA_ISSUER, TESSERA_REGIONS from the environment); it has no database')
    .action(async () => {
      const config = loadFrontConfig();
      const app = await startFront(config);
      logUnhandledRejections(app);
      closeOnSignals(app, config.shutdownTimeoutSeconds);
    });

  program
    .command('migrate')
    .description('apply pending database migrations')
    .addOption(json())
    .action(async (options: Output) => {
      const config = loadConfig();
      // A migration may run as long as it needs; only the wait for a connection is bounded.
      const db = openDatabase(config.databaseUrl, { timeoutMs: config.databaseTimeoutMs, statementsUnbounded: true });
      try {
        const result = await migrateToLatest(db);
        const applied = (result.results ?? []).map((r) => r.migrationName);
        print(options, { applied }, applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally {
        await db.close();
      }
    });

  program
    .command('purge')
    .description('delete expired access and refresh tokens, old authorization codes, expired sessions and expired email verification links (the server also does this every TESSERA_PURGE_INTERVAL seconds)')
    .addOption(json())
    .action(async (options: Output) => {
      const counts = await withRuntime(({ ctx }) => purgeExpired(ctx));
      const human = Object.entries(counts).map(([name, count]) => `${name}: ${count} deleted`).join('\n');
      print(options, { deleted: counts }, human);
    });

  const user = program.command('user').description('manage users');
  user
    .command('create')
    .requiredOption('--email <email>')
    .requiredOption('--password <password>')
    .option('--name <name>')
    .option('--verified', 'the address is known to be theirs (otherwise a confirmation link is mailed)')
    .addOption(json())
    .action(async (options: Output & { email: string; password: string; name?: string; verified?: boolean }) => {
      const created = await withRuntime(({ ctx }) => createUser(ctx.db, options, ctx.now(), { emailVerified: options.verified ?? false, sendVerificationFrom: ctx.config }));
      print(options, { id: created.id, email: created.email, is_admin: created.is_admin === 1 }, `created user ${created.email} (${created.id})${created.is_admin ? ', instance admin' : ''}`);
    });

  user
    .command('reset-2fa')
    .description('turn two-factor sign-in off for a user who lost their authenticator and recovery codes (mails them; audit event two_factor.reset)')
    .requiredOption('--email <email>')
    .addOption(json())
    .action(async (options: Output & { email: string }) => {
      const { email, reset } = await withRuntime(async ({ ctx }) => {
        const found = await findUserByEmail(ctx.db, options.email);
        if (!found) throw new UsageError(`no user with email ${options.email}`);
        return { email: found.email, reset: await disableTwoFactor(ctx, found, { actor: 'system:cli' }) };
      });
      print(options, { email, two_factor_reset: reset }, reset ? `two-factor sign-in turned off for ${email}; they were sent a mail` : `${email} did not have two-factor sign-in on`);
    });

  const org = program.command('org').description('manage organizations');
  org
    .command('create')
    .requiredOption('--name <name>')
    .requiredOption('--owner <email>', 'email of the owning user')
    .addOption(json())
    .action(async (options: Output & { name: string; owner: string }) => {
      const created = await withRuntime(async ({ ctx }) => {
        const owner = await findUserByEmail(ctx.db, options.owner);
        if (!owner) throw new UsageError(`no user with email ${options.owner}`);
        return createOrganization(ctx.db, { name: options.name, ownerId: owner.id }, ctx.now());
      });
      print(options, { id: created.id, name: created.name }, `created organization ${created.name} (${created.id})`);
    });

  const project = program.command('project').description('manage projects');
  project
    .command('create')
    .requiredOption('--org <id>', 'organization id')
    .requiredOption('--name <name>')
    .option('--sample-data', 'fill the project with 30 days of sample events for the platform API')
    .addOption(json())
    .action(async (options: Output & { org: string; name: string; sampleData?: boolean }) => {
      const { created, events } = await withRuntime(async ({ ctx }) => {
        const project = await createProject(ctx.db, { organizationId: options.org, name: options.name }, ctx.now());
        return { created: project, events: options.sampleData ? await seedSampleEvents(ctx.db, project.id, ctx.now()) : 0 };
      });
      const human = `created project ${created.name} (${created.id})${events ? ` with ${events} sample events` : ''}`;
      print(options, { id: created.id, name: created.name, organization_id: created.organization_id, sample_events: events }, human);
    });

  const client = program.command('client').description('manage OAuth clients');
  client
    .command('create')
    .requiredOption('--name <name>')
    .requiredOption('--redirect-uri <uri>', 'an exact redirect URI (repeat for more)', collect)
    .option('--public', 'a public client (PKCE only, no secret)')
    .option('--scope <scopes>', 'the scope ceiling, space-separated')
    .option('--grant-type <type>', 'a grant type the client may use (repeat for more; default: authorization_code and refresh_token)', collect)
    .addOption(json())
    .action(async (options: Output & { name: string; redirectUri: string[]; public?: boolean; scope?: string; grantType?: string[] }) => {
      const redirectUris = validateRedirectUris(options.redirectUri);
      const grantTypes = validateGrantTypes(options.grantType);
      const ceiling = options.scope === undefined ? null : parseScope(options.scope);
      const scopeProblem = ceiling && scopeCeilingProblem(ceiling);
      if (scopeProblem) throw new UsageError(`--scope ${scopeProblem}`);
      const created = await withRuntime(({ ctx }) =>
        createClient(ctx.db, { kind: 'registered', name: options.name, redirectUris, isPublic: Boolean(options.public), scopeCeiling: ceiling, grantTypes }, ctx.now()),
      );
      const data = {
        client_id: created.client.id,
        ...(created.clientSecret ? { client_secret: created.clientSecret } : {}),
        name: created.client.name,
        redirect_uris: redirectUris,
        public: created.client.isPublic,
        scope: created.client.scopeCeiling?.join(' ') ?? null,
        grant_types: created.client.grantTypes,
      };
      const human = [`client_id:     ${data.client_id}`, created.clientSecret ? `client_secret: ${created.clientSecret}  (shown once; store it now)` : 'public client: no secret'].join('\n');
      print(options, data, human);
    });

  addKeyCommands(program);
  addMailCommands(program);
  addSecurityCommands(program);
  addCimdCommands(program);
  addAppCommands(program);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError || error instanceof AccountError || error instanceof ConfigError) {
      process.stderr.write(`tessera: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`tessera: ${(error as Error).message}\n`);
    return 1;
  }
}
