/** `tessera resource create|list|show|rotate-secret|delete`: registered resource servers (core/resources/). */
import { Option, type Command } from 'commander';
import { createResourceServer, deleteResourceServer, resourceUriProblem, rotateResourceServerSecret } from '../core/resources/registered.js';
import { ACCESS_TOKEN_FORMATS, fromRegistration, isAccessTokenFormat } from '../core/resources/registry.js';
import type { ResourceServer } from '../store/schema.js';
import { json, UsageError, type Cli, type Output } from './output.js';

/** What an operator sees of a resource server; never its secret, which is shown once when made. */
function describe(row: ResourceServer) {
  const resource = fromRegistration(row);
  return {
    id: row.id,
    uri: row.uri,
    name: row.name,
    client_id: row.client_id,
    token_format: row.token_format,
    access_token_ttl: resource.accessTokenTtl ?? null,
    platform_api_access: row.platform_api_access === 1,
    created_at: new Date(row.created_at).toISOString(),
  };
}

function line(row: ResourceServer): string {
  return `${row.id}  ${row.uri}  ${row.name}  ${row.token_format}  ${row.client_id}`;
}

function parseTtl(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const ttl = Number(raw);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86_400) throw new UsageError('--access-token-ttl must be a whole number of seconds from 1 to 86400');
  return ttl;
}

export function addResourceCommands(program: Command, cli: Cli): void {
  const resource = program.command('resource').description('manage registered resource servers (RFC 8707 resources that introspect their tokens)');
  resource
    .command('create')
    .description('register a resource server; prints its introspection credentials (the secret once)')
    .requiredOption('--uri <uri>', 'the resource indicator tokens for it are bound to')
    .requiredOption('--name <name>', 'shown on the consent page')
    .addOption(new Option('--token-format <format>', 'the access tokens issued for it').choices([...ACCESS_TOKEN_FORMATS]).default('opaque'))
    .option('--access-token-ttl <seconds>', 'access token lifetime (default: 300 for jwt, the client\'s for opaque)')
    .option('--platform-api-access', 'the platform API accepts its tokens too (a first-party service, such as an MCP server, calling the API for the user)')
    .addOption(json())
    .action(async (options: Output & { uri: string; name: string; tokenFormat: string; accessTokenTtl?: string; platformApiAccess?: boolean }) => {
      if (!isAccessTokenFormat(options.tokenFormat)) throw new UsageError(`--token-format must be one of ${ACCESS_TOKEN_FORMATS.join(', ')}`);
      const tokenFormat = options.tokenFormat;
      const accessTokenTtl = parseTtl(options.accessTokenTtl);
      const name = options.name.trim();
      if (!name || name.length > 100) throw new UsageError('--name must be 1 to 100 characters');
      const created = await cli.withRuntime(async ({ ctx }) => {
        const problem = resourceUriProblem(options.uri, ctx.config);
        if (problem) throw new UsageError(`--uri ${problem}`);
        if (await ctx.store.resourceServers.findByUri(options.uri)) throw new UsageError(`--uri ${options.uri} is already registered`);
        return createResourceServer(ctx, { uri: options.uri, name, tokenFormat, accessTokenTtl, platformApiAccess: Boolean(options.platformApiAccess) });
      });
      const data = { ...describe(created.resource), client_secret: created.clientSecret };
      const human = [
        `resource server ${created.resource.id} for ${created.resource.uri} (${tokenFormat} access tokens)`,
        `client_id:     ${created.resource.client_id}`,
        `client_secret: ${created.clientSecret}  (shown once; store it now)`,
      ].join('\n');
      cli.print(options, data, human);
    });
  resource
    .command('list')
    .description('list registered resource servers')
    .addOption(json())
    .action(async (options: Output) => {
      const rows = await cli.withRuntime(({ ctx }) => ctx.store.resourceServers.list());
      cli.print(options, { resources: rows.map(describe) }, rows.length ? rows.map(line).join('\n') : 'no registered resource servers');
    });
  resource
    .command('show <resource>')
    .description('show one resource server, by id, client_id or URI')
    .addOption(json())
    .action(async (reference: string, options: Output) => {
      const row = await cli.withRuntime(({ ctx }) => ctx.store.resourceServers.findByReference(reference));
      if (!row) throw new UsageError(`no resource server ${reference}`);
      const data = describe(row);
      cli.print(options, data, Object.entries(data).map(([key, value]) => `${`${key}:`.padEnd(18)}${String(value)}`).join('\n'));
    });
  resource
    .command('rotate-secret <resource>')
    .description('replace a resource server\'s secret; the old one stops working at once')
    .addOption(json())
    .action(async (reference: string, options: Output) => {
      const rotated = await cli.withRuntime(({ ctx }) => rotateResourceServerSecret(ctx, reference));
      if (!rotated) throw new UsageError(`no resource server ${reference}`);
      cli.print(options, { id: rotated.resource.id, client_id: rotated.resource.client_id, client_secret: rotated.clientSecret }, `client_secret: ${rotated.clientSecret}  (shown once; store it now)`);
    });
  resource
    .command('delete <resource>')
    .description('delete a resource server: no new tokens for it, and its existing tokens stop working')
    .addOption(json())
    .action(async (reference: string, options: Output) => {
      const deleted = await cli.withRuntime(({ ctx }) => deleteResourceServer(ctx, reference));
      if (!deleted) throw new UsageError(`no resource server ${reference}`);
      cli.print(
        options,
        { id: deleted.resource.id, uri: deleted.resource.uri, deleted: true, revoked_families: deleted.revokedFamilies },
        `deleted ${deleted.resource.uri}; ${deleted.revokedFamilies} token families revoked`,
      );
    });
}
