/** `tessera app verify|unverify`: the instance admin's mark that the platform vouches for a client. */
import type { Command } from 'commander';
import { setClientVerified } from '../core/clients/admin.js';
import { json, type Cli, type Output } from './output.js';

async function markVerified(cli: Cli, clientId: string, verified: boolean, options: Output): Promise<void> {
  const client = await cli.withRuntime(({ ctx }) => setClientVerified(ctx, clientId, verified, 'system:cli'));
  const human = verified ? `${client.name} (${client.id}) is verified: the consent page shows a badge` : `${client.name} (${client.id}) is no longer verified`;
  cli.print(options, { client_id: client.id, name: client.name, verified: client.verified }, human);
}

export function addAppCommands(program: Command, cli: Cli): void {
  const app = program.command('app').description('vouch for registered clients (developer apps, operator-registered and dynamic clients)');
  app
    .command('verify')
    .description('mark a registered client as verified by the platform (a badge on the consent page)')
    .argument('<client_id>')
    .addOption(json())
    .action((clientId: string, options: Output) => markVerified(cli, clientId, true, options));
  app
    .command('unverify')
    .description('remove the verified mark from a client')
    .argument('<client_id>')
    .addOption(json())
    .action((clientId: string, options: Output) => markVerified(cli, clientId, false, options));
}
