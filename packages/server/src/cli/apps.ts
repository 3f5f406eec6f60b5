/** `tessera app verify|unverify`: the instance admin's mark that the platform vouches for an app. */
import type { Command } from 'commander';
import { setAppVerified } from '../platform/developer-apps/apps.js';
import { OAuthError } from '../core/oauth/errors.js';
import { json, UsageError, type Cli, type Output } from './output.js';

async function markVerified(cli: Cli, clientId: string, verified: boolean, options: Output): Promise<void> {
  const client = await cli.withRuntime(({ ctx }) => setAppVerified(ctx, clientId, verified, 'system:cli')).catch((error: unknown) => {
    if (error instanceof OAuthError) throw new UsageError(error.description);
    throw error;
  });
  const human = verified ? `${client.name} (${client.id}) is verified: the consent page shows a badge` : `${client.name} (${client.id}) is no longer verified`;
  cli.print(options, { client_id: client.id, name: client.name, verified: client.verified }, human);
}

export function addAppCommands(program: Command, cli: Cli): void {
  const app = program.command('app').description('manage self-serve developer apps');
  app
    .command('verify')
    .description('mark an app as verified by the platform (a badge on the consent page)')
    .argument('<client_id>')
    .addOption(json())
    .action((clientId: string, options: Output) => markVerified(cli, clientId, true, options));
  app
    .command('unverify')
    .description('remove the verified mark from an app')
    .argument('<client_id>')
    .addOption(json())
    .action((clientId: string, options: Output) => markVerified(cli, clientId, false, options));
}
