/**
 * What every `tessera` command shares: where it writes (the process's streams, or a test's), its
 * environment, the --json option, usage errors, and a runtime opened for one command.
 */
import { createInterface } from 'node:readline';
import { Option } from 'commander';
import { constantTimeEqual } from '../core/crypto/token-formats.js';
import { loadConfig } from '../config.js';
import { createRuntime, type Runtime } from '../runtime.js';

/** A mistake in the command line or its values: printed as one clear line, exit code 2. */
export class UsageError extends Error {}

/** Where a command reads and writes; `processIo` outside tests. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** The whole of standard input (for --password-stdin). */
  readStdin(): Promise<string>;
  /** Asks a question on the terminal without echoing the answer; absent when nobody is at a terminal. */
  promptSecret?: ((question: string) => Promise<string>) | undefined;
}

/** Reads one line from the terminal, echoing nothing of it, so a password stays off the screen and out of shell history. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const terminal = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    process.stderr.write(question);
    // readline echoes each key through _writeToOutput; muting it hides what is typed.
    (terminal as unknown as { _writeToOutput: (text: string) => void })._writeToOutput = () => {};
    terminal.question('', (answer) => {
      terminal.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

export const processIo: CliIo = {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  promptSecret: process.stdin.isTTY ? promptHidden : undefined,
};

/** The options of a command that takes a new password. */
export interface PasswordOptions {
  /** Kept for scripts written before --password-stdin; it leaves the password in shell history. */
  password?: string;
  passwordStdin?: boolean;
}

export const passwordStdin = () => new Option('--password-stdin', 'read the password from standard input (one line)');

/**
 * A new password: from standard input with --password-stdin, else asked twice at the terminal.
 * Never required on the command line, where it would stay in shell history and process lists.
 */
export async function readNewPassword(io: CliIo, options: PasswordOptions): Promise<string> {
  if (options.password !== undefined) {
    if (options.passwordStdin) throw new UsageError('give the password with --password-stdin or --password, not both');
    return options.password;
  }
  if (options.passwordStdin) {
    const input = await io.readStdin();
    // One line: a trailing newline from `echo` or a file is not part of the password.
    const password = input.replace(/\r?\n$/, '');
    if (/[\r\n]/.test(password)) throw new UsageError('--password-stdin reads one line; standard input had several');
    if (!password) throw new UsageError('--password-stdin read an empty password');
    return password;
  }
  if (!io.promptSecret) throw new UsageError('no password given: pipe it in with --password-stdin, or run the command at a terminal to be asked for it');
  const password = await io.promptSecret('New password: ');
  const repeated = await io.promptSecret('Repeat the password: ');
  if (!constantTimeEqual(repeated, password)) throw new UsageError('the two passwords were not the same');
  return password;
}

export type Output = { json?: boolean };

export const json = () => new Option('--json', 'print machine-readable JSON');

/** A time as ISO 8601, for lists and JSON. */
export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Rows as aligned columns for a terminal; `empty` when there are none. */
export function columns(rows: string[][], empty: string): string {
  if (rows.length === 0) return empty;
  const widths = rows[0]!.map((_, index) => Math.max(...rows.map((row) => row[index]!.length)));
  return rows.map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!))).join('  ')).join('\n');
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A --limit option's value: an integer from 1 to `max`. */
export function parseLimit(raw: string, max: number): number {
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new UsageError(`--limit must be an integer from 1 to ${max}`);
  return limit;
}

/** The command's side of its io: printing its answer, and a runtime over the configured database. */
export interface Cli {
  io: CliIo;
  print(options: Output, data: Record<string, unknown>, human: string): void;
  withRuntime<T>(fn: (runtime: Runtime) => Promise<T>): Promise<T>;
}

export function cliOver(io: CliIo): Cli {
  return {
    io,
    print(options, data, human) {
      io.stdout.write(options.json ? JSON.stringify(data) + '\n' : human + '\n');
    },
    async withRuntime(fn) {
      const runtime = await createRuntime(loadConfig(io.env));
      try {
        return await fn(runtime);
      } finally {
        await runtime.close();
      }
    },
  };
}
