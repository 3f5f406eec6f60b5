/**
 * The `tessera` command. It reads the same environment as the server, so it writes to the
 * database the server uses. Every command takes --json for machine-readable output. One file per
 * topic adds its commands; they share output.ts.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { OAuthError } from '../core/oauth/errors.js';
import { AccountError } from '../platform/accounts/users.js';
import { addAccountCommands } from './accounts.js';
import { addAppCommands } from './apps.js';
import { addCimdCommands } from './cimd.js';
import { addClientCommands } from './clients.js';
import { addKeyCommands } from './keys.js';
import { addMailCommands } from './mail.js';
import { addResourceCommands } from './resources.js';
import { cliOver, processIo, UsageError, type CliIo } from './output.js';
import { addSecurityCommands } from './security.js';
import { addServeCommands } from './serve.js';

/** The package's version: src/cli and dist/cli both sit two levels under packages/server. */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function buildCli(io: CliIo = processIo): Command {
  const cli = cliOver(io);
  const program = new Command('tessera')
    .description('Tessera OAuth 2.1 authorization server')
    .version(VERSION, '-V, --version', 'print the version')
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showHelpAfterError()
    .exitOverride();
  addServeCommands(program, cli);
  addAccountCommands(program, cli);
  addClientCommands(program, cli);
  addKeyCommands(program, cli);
  addMailCommands(program, cli);
  addSecurityCommands(program, cli);
  addCimdCommands(program, cli);
  addAppCommands(program, cli);
  addResourceCommands(program, cli);
  return program;
}

/** Runs one command line; the exit code: 0 done, 1 failed, 2 a usage mistake. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  try {
    await buildCli(io).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError || error instanceof AccountError || error instanceof ConfigError) {
      io.stderr.write(`tessera: ${error.message}\n`);
      return 2;
    }
    // A refusal of the protocol's own functions (no such client, a public client has no secret): its sentence.
    if (error instanceof OAuthError) {
      io.stderr.write(`tessera: ${error.description}\n`);
      return 2;
    }
    io.stderr.write(`tessera: ${(error as Error).message}\n`);
    return 1;
  }
}
