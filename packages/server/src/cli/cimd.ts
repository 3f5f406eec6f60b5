/** `tessera cimd block|unblock|list`: the instance admin's blocklist of Client ID Metadata Document clients. */
import type { Command } from 'commander';
import { listBlocked, parseBlockPattern } from '../core/clients/cimd/blocklist.js';
import { json, UsageError, type Cli, type Output } from './output.js';

function blockPattern(input: string): string {
  const pattern = parseBlockPattern(input);
  if (!pattern) throw new UsageError(`${input} is neither a client id URL (https://host/path, no query or fragment) nor a domain`);
  return pattern;
}

export function addCimdCommands(program: Command, cli: Cli): void {
  const cimd = program.command('cimd').description('Client ID Metadata Document clients');
  cimd
    .command('block')
    .description('refuse a client id URL, or every client id on a domain and its subdomains')
    .argument('<url-or-domain>')
    .option('--reason <text>', 'why, for the other admins')
    .addOption(json())
    .action(async (input: string, options: Output & { reason?: string }) => {
      const pattern = blockPattern(input);
      await cli.withRuntime(({ ctx }) => ctx.store.cimd.block(pattern, options.reason ?? null, ctx.now()));
      cli.print(options, { pattern, reason: options.reason ?? null }, `blocked ${pattern}`);
    });
  cimd
    .command('unblock')
    .description('remove a client id URL or domain from the blocklist')
    .argument('<url-or-domain>')
    .addOption(json())
    .action(async (input: string, options: Output) => {
      const pattern = blockPattern(input);
      const removed = await cli.withRuntime(({ ctx }) => ctx.store.cimd.unblock(pattern));
      if (!removed) throw new UsageError(`${pattern} is not blocked`);
      cli.print(options, { pattern }, `unblocked ${pattern}`);
    });
  cimd
    .command('list')
    .description('list the blocklist')
    .addOption(json())
    .action(async (options: Output) => {
      const entries = await cli.withRuntime(({ ctx }) => listBlocked(ctx.store));
      const blocked = entries.map((entry) => ({ pattern: entry.pattern, reason: entry.reason, created_at: new Date(entry.createdAt).toISOString() }));
      const human = blocked.length ? blocked.map((entry) => [entry.pattern, entry.created_at, entry.reason].filter(Boolean).join('  ')).join('\n') : 'no blocked client ids';
      cli.print(options, { blocked }, human);
    });
}
