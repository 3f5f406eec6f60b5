/**
 * The `tessera` command, run in this process through runCli (packages/server/src/cli/program.ts)
 * with its own streams and environment: the same parsing, validation and exit codes as the
 * installed command, without a Node start per command. `spawnTessera` runs the real binary.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../packages/server/src/cli/program.js';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for `--json`). */
  json(): Record<string, any>;
}

export interface TesseraCli {
  (...args: string[]): Promise<CliResult>;
  /** Runs a command with this text on its standard input. */
  withStdin(stdin: string, ...args: string[]): Promise<CliResult>;
  /** The DATABASE_URL every command runs against. */
  readonly databaseUrl: string;
  /** Removes the temporary SQLite directory, when this runner made one. */
  dispose(): void;
}

export interface CliOptions {
  /** DATABASE_URL for the command; by default a SQLite file in a temporary directory of its own. */
  databaseUrl?: string;
  /** More environment, on top of this process's. */
  env?: Record<string, string>;
  /** Arguments before each command's own (`['cimd']` runs `tessera cimd …`). */
  prefix?: string[];
}

function result(status: number | null, stdout: string, stderr: string): CliResult {
  return { status, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, any> };
}

export function tesseraCli(options: CliOptions = {}): TesseraCli {
  const dir = options.databaseUrl === undefined ? mkdtempSync(join(tmpdir(), 'tessera-cli-')) : undefined;
  const databaseUrl = options.databaseUrl ?? `sqlite:${join(dir!, 'cli.sqlite')}`;
  const env = { ...process.env, DATABASE_URL: databaseUrl, ...options.env };
  const run = async (stdin: string, args: string[]): Promise<CliResult> => {
    let stdout = '';
    let stderr = '';
    const status = await runCli([...(options.prefix ?? []), ...args], {
      env,
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      readStdin: async () => stdin,
    });
    return result(status, stdout, stderr);
  };
  return Object.assign((...args: string[]) => run('', args), {
    withStdin: (stdin: string, ...args: string[]) => run(stdin, args),
    databaseUrl,
    dispose() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** The installed command as an operator runs it (`npx tessera …`): a child process through the package's bin. */
export function spawnTessera(args: string[], env: Record<string, string> = {}): CliResult {
  const spawned = spawnSync(process.execPath, ['--import', 'tsx', 'packages/server/src/cli/main.ts', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return result(spawned.status, spawned.stdout, spawned.stderr);
}
