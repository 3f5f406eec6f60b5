/**
 * What every `tessera` command shares: where it writes (the process's streams, or a test's), its
 * environment, the --json option, usage errors, and a runtime opened for one command.
 */
import { Option } from 'commander';
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
};

export type Output = { json?: boolean };

export const json = () => new Option('--json', 'print machine-readable JSON');

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
