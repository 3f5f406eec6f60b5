/** The real `tessera` command (packages/server/src/cli/main.ts through tsx) run as a child process, as an operator would. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for `--json`). */
  json(): Record<string, any>;
}

export interface TesseraCli {
  (...args: string[]): CliResult;
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

export function tesseraCli(options: CliOptions = {}): TesseraCli {
  const dir = options.databaseUrl === undefined ? mkdtempSync(join(tmpdir(), 'tessera-cli-')) : undefined;
  const databaseUrl = options.databaseUrl ?? `sqlite:${join(dir!, 'cli.sqlite')}`;
  const env = { ...process.env, DATABASE_URL: databaseUrl, ...options.env };
  const run = (...args: string[]): CliResult => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'packages/server/src/cli/main.ts', ...(options.prefix ?? []), ...args], { env, encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, json: () => JSON.parse(result.stdout) as Record<string, any> };
  };
  return Object.assign(run, {
    databaseUrl,
    dispose() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  });
}
