/** `tessera client create|list|show|rotate-secret|delete`: OAuth clients, as the instance's operator sees them. */
import type { Command } from 'commander';
import { grantTypesProblem, redirectUrisProblem, scopeCeilingProblem } from '../core/clients/metadata-rules.js';
import { deleteRegisteredClient, findRegisteredClientOrFail, listRegisteredClients, rotateRegisteredClientSecret, type RegisteredClient } from '../core/clients/admin.js';
import { createClient } from '../core/clients/registered.js';
import { DEFAULT_GRANT_TYPES, isGrantType, type GrantType } from '../core/oauth/grant-types/names.js';
import { parseScope } from '../core/oauth/scopes.js';
import { platformScopes } from '../platform/scopes.js';
import { collect, columns, iso, json, UsageError, type Cli, type Output } from './output.js';

/** How each kind of client came to be, in words. */
const KIND_WORDS: Record<RegisteredClient['kind'], string> = {
  registered: 'registered by the operator',
  app: 'developer app',
  dynamic: 'dynamic registration',
  cimd: 'metadata document',
};

function clientData(client: RegisteredClient) {
  return {
    client_id: client.id,
    name: client.name,
    kind: client.kind,
    public: client.isPublic,
    verified: client.verified,
    organization_id: client.organizationId,
    redirect_uris: client.redirectUris,
    scope: client.scopeCeiling?.join(' ') ?? null,
    grant_types: client.grantTypes,
    created_at: iso(client.createdAt),
    updated_at: iso(client.updatedAt),
  };
}

/** The same rule as developer apps and dynamic registration (https, loopback http, or a private-use scheme). */
function validateRedirectUris(uris: string[], grantTypes: GrantType[]): string[] {
  const found = redirectUrisProblem(uris, grantTypes);
  if (found) throw new UsageError(found.uri === undefined ? `--redirect-uri: ${found.problem}` : `--redirect-uri ${found.uri} ${found.problem}`);
  return [...new Set(uris)];
}

/** The grant types of `client create`, by default the code flow with refresh tokens; the rule every client follows. */
function validateGrantTypes(grantTypes: string[] | undefined): GrantType[] {
  if (grantTypes === undefined) return [...DEFAULT_GRANT_TYPES];
  const problem = grantTypesProblem(grantTypes);
  if (problem) throw new UsageError(`--grant-type ${problem}`);
  return [...new Set(grantTypes.filter(isGrantType))];
}

export function addClientCommands(program: Command, cli: Cli): void {
  const client = program.command('client').description('manage OAuth clients');
  client
    .command('create')
    .description('register a client; a confidential client\'s secret is printed once')
    .requiredOption('--name <name>')
    .option('--redirect-uri <uri>', 'an exact redirect URI (repeat for more); required for authorization_code, not for a device-only client', collect)
    .option('--public', 'a public client (PKCE only, no secret)')
    .option('--scope <scopes>', 'the scope ceiling, space-separated')
    .option('--grant-type <type>', 'a grant type the client may use (repeat for more: authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code; default: authorization_code and refresh_token)', collect)
    .addOption(json())
    .action(async (options: Output & { name: string; redirectUri?: string[]; public?: boolean; scope?: string; grantType?: string[] }) => {
      const grantTypes = validateGrantTypes(options.grantType);
      const redirectUris = validateRedirectUris(options.redirectUri ?? [], grantTypes);
      const ceiling = options.scope === undefined ? null : parseScope(options.scope);
      const scopeProblem = ceiling && scopeCeilingProblem(ceiling, platformScopes);
      if (scopeProblem) throw new UsageError(`--scope ${scopeProblem}`);
      const created = await cli.withRuntime(({ ctx }) =>
        createClient(ctx.store, { kind: 'registered', name: options.name, redirectUris, isPublic: Boolean(options.public), scopeCeiling: ceiling, grantTypes }, ctx.now()),
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
      cli.print(options, data, human);
    });

  client
    .command('list')
    .description('list every registered client (operator-registered, developer apps, dynamic registrations), oldest first')
    .addOption(json())
    .action(async (options: Output) => {
      const clients = await cli.withRuntime(({ ctx }) => listRegisteredClients(ctx.store));
      const rows = clients.map((found) => [found.id, found.name, KIND_WORDS[found.kind], found.isPublic ? 'public' : 'confidential', found.verified ? 'verified' : '']);
      cli.print(options, { clients: clients.map(clientData) }, columns(rows, 'no clients yet'));
    });

  client
    .command('show')
    .description('show a registered client: its kind, redirect URIs, scope ceiling and grant types')
    .argument('<client_id>')
    .addOption(json())
    .action(async (clientId: string, options: Output) => {
      const found = await cli.withRuntime(({ ctx }) => findRegisteredClientOrFail(ctx.store, clientId));
      const human = [
        `${found.name} (${found.id})`,
        `kind:          ${KIND_WORDS[found.kind]}${found.organizationId ? ` of organization ${found.organizationId}` : ''}`,
        `type:          ${found.isPublic ? 'public (PKCE, no secret)' : 'confidential'}`,
        `verified:      ${found.verified ? 'yes' : 'no'}`,
        `redirect URIs: ${found.redirectUris.join(', ') || 'none (device sign-in only)'}`,
        `scope ceiling: ${found.scopeCeiling?.join(' ') ?? 'any scope'}`,
        `grant types:   ${found.grantTypes.join(', ')}`,
        `created:       ${iso(found.createdAt)}`,
      ].join('\n');
      cli.print(options, clientData(found), human);
    });

  client
    .command('rotate-secret')
    .description('replace a confidential client\'s secret: the old one stops working at once; the new one is printed once')
    .argument('<client_id>')
    .addOption(json())
    .action(async (clientId: string, options: Output) => {
      const { client: rotated, clientSecret } = await cli.withRuntime(({ ctx }) => rotateRegisteredClientSecret(ctx, clientId, 'system:cli'));
      cli.print(options, { client_id: rotated.id, client_secret: clientSecret }, `client_secret: ${clientSecret}  (shown once; store it now; the old secret no longer works)`);
    });

  client
    .command('delete')
    .description('delete a registered client for good: revokes its tokens and removes it from every user\'s connected apps')
    .argument('<client_id>')
    .option('--yes', 'confirm: the deletion cannot be undone')
    .addOption(json())
    .action(async (clientId: string, options: Output & { yes?: boolean }) => {
      if (!options.yes) throw new UsageError(`deleting ${clientId} cannot be undone: add --yes to confirm`);
      const deleted = await cli.withRuntime(({ ctx }) => deleteRegisteredClient(ctx, clientId, 'system:cli'));
      const data = { client_id: deleted.client.id, name: deleted.client.name, revoked_token_families: deleted.revokedFamilies, removed_authorizations: deleted.removedAuthorizations };
      cli.print(options, data, `deleted ${deleted.client.name} (${deleted.client.id}): ${deleted.revokedFamilies} token families revoked, ${deleted.removedAuthorizations} users' authorizations removed`);
    });
}
