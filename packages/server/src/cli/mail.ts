/** `tessera mail list`: read the outbox (how development instances deliver mail). */
import type { Command } from 'commander';
import { listMail } from '../platform/mail.js';
import { json, parseLimit, type Cli, type Output } from './output.js';

export function addMailCommands(program: Command, cli: Cli): void {
  program
    .command('mail')
    .description('read outgoing mail')
    .command('list')
    .description('list the newest messages in the outbox')
    .option('--to <email>', 'only messages to this address')
    .option('--limit <n>', 'how many', '20')
    .addOption(json())
    .action(async (options: Output & { to?: string; limit: string }) => {
      const limit = parseLimit(options.limit, 1000);
      const messages = await cli.withRuntime(({ ctx }) => listMail(ctx.store, { ...(options.to ? { to: options.to.trim().toLowerCase() } : {}), limit }));
      const rows = messages.map((m) => ({ id: m.id, to: m.to_address, subject: m.subject, body: m.body, created_at: new Date(m.created_at).toISOString() }));
      cli.print(options, { messages: rows }, rows.map((m) => `--- ${m.created_at} to ${m.to}: ${m.subject}\n${m.body}`).join('\n') || 'the outbox is empty');
    });
}
