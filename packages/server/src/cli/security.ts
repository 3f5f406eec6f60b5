/** `tessera secret-scanning patterns` and `tessera audit`: the operator's security tools. */
import type { Command } from 'commander';
import { findUserByEmail } from '../platform/accounts/users.js';
import { AUDIT_EVENT_TYPES, listAudit, type AuditEventType } from '../core/audit.js';
import { scanningPatterns } from '../core/crypto/token-formats.js';
import { json, parseLimit, UsageError, type Cli, type Output } from './output.js';

const MAX_AUDIT_LIMIT = 1000;

export function addSecurityCommands(program: Command, cli: Cli): void {
  const secretScanning = program.command('secret-scanning').description('secret scanning (GitHub partner program)');
  secretScanning
    .command('patterns')
    .description('the regular expressions to register with a secret scanner, one per token type')
    .addOption(json())
    .action((options: Output) => {
      const patterns = scanningPatterns();
      cli.print(options, { patterns }, patterns.map((pattern) => `${pattern.kind.padEnd(16)} ${pattern.regex}`).join('\n'));
    });

  program
    .command('audit')
    .description('list audit events, newest first')
    .option('--user <email>', 'events concerning this user')
    .option('--client <id>', 'events concerning this client')
    .option('--type <type>', `one of: ${AUDIT_EVENT_TYPES.join(', ')}`)
    .option('--since <date>', 'events at or after this ISO 8601 date')
    .option('--limit <n>', `at most this many events (1-${MAX_AUDIT_LIMIT})`, '100')
    .addOption(json())
    .action(async (options: Output & { user?: string; client?: string; type?: string; since?: string; limit: string }) => {
      const type = parseAuditType(options.type);
      const since = options.since === undefined ? undefined : parseDate(options.since);
      const limit = parseLimit(options.limit, MAX_AUDIT_LIMIT);
      const events = await cli.withRuntime(async ({ ctx }) => {
        const user = options.user === undefined ? undefined : await findUserByEmail(ctx.store, options.user);
        if (options.user !== undefined && !user) throw new UsageError(`no user with email ${options.user}`);
        const rows = await listAudit(ctx.store, { userId: user?.id, clientId: options.client, type, since, limit });
        return rows.map((row) => ({ ...row, at: new Date(row.at).toISOString(), detail: JSON.parse(row.detail) as Record<string, unknown> }));
      });
      cli.print(options, { events }, events.length ? events.map(describeEvent).join('\n') : 'no audit events');
    });
}

/** One line per event: when, what, who, and the detail as JSON. */
function describeEvent(event: { at: string; type: string; actor: string; user_id: string | null; client_id: string | null; ip: string | null; detail: Record<string, unknown> }): string {
  const optional = [event.user_id && `user=${event.user_id}`, event.client_id && `client=${event.client_id}`, event.ip && `ip=${event.ip}`].filter(Boolean);
  return [event.at, event.type, `actor=${event.actor}`, ...optional, JSON.stringify(event.detail)].join('  ');
}

function parseAuditType(type: string | undefined): AuditEventType | undefined {
  if (type === undefined) return undefined;
  if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(type)) throw new UsageError(`--type must be one of: ${AUDIT_EVENT_TYPES.join(', ')}`);
  return type as AuditEventType;
}

function parseDate(value: string): number {
  // Only ISO 8601 forms; Date.parse would also accept loose formats that mean different things.
  const at = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) throw new UsageError(`--since must be an ISO 8601 date, got "${value}"`);
  return at;
}
