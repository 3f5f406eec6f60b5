/** `tessera client create`: an OAuth client registered by the operator. */
import type { Command } from 'commander';
import { grantTypesProblem, redirectUrisProblem, scopeCeilingProblem } from '../core/clients/metadata-rules.js';
import { createClient } from '../core/clients/registered.js';
import { DEFAULT_GRANT_TYPES, isGrantType, type GrantType } from '../core/oauth/grant-types/names.js';
import { parseScope } from '../core/oauth/scopes.js';
import { platformScopes } from '../platform/scopes.js';
import { collect, json, UsageError, type Cli, type Output } from './output.js';

/** The same rule as developer apps and dynamic registration (https, loopback http, or a private-use scheme). */
function validateRedirectUris(uris: string[]): string[] {
  const found = redirectUrisProblem(uris);
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
    .requiredOption('--name <name>')
    .requiredOption('--redirect-uri <uri>', 'an exact redirect URI (repeat for more)', collect)
    .option('--public', 'a public client (PKCE only, no secret)')
    .option('--scope <scopes>', 'the scope ceiling, space-separated')
    .option('--grant-type <type>', 'a grant type the client may use (repeat for more: authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code; default: authorization_code and refresh_token)', collect)
    .addOption(json())
    .action(async (options: Output & { name: string; redirectUri: string[]; public?: boolean; scope?: string; grantType?: string[] }) => {
      const redirectUris = validateRedirectUris(options.redirectUri);
      const grantTypes = validateGrantTypes(options.grantType);
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
}
