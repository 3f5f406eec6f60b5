/** The two servers under test run as child processes; these helpers start, watch and stop them. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  /** The last lines the process printed, shown when it fails. */
  recentOutput(): string;
  /** Rejects as soon as the process exits, so a wait on it never hangs on a dead server. */
  exited: Promise<never>;
}

const KEPT_LINES = 40;

export function startProcess(name: string, args: string[], env: NodeJS.ProcessEnv): ServerProcess {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - KEPT_LINES));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (code ${code}, signal ${signal})\n${lines.join('\n')}`)));
  });
  exited.catch(() => undefined); // observed by whoever races against it
  return { name, child, recentOutput: () => lines.join('\n'), exited };
}

export async function stopProcess(server: ServerProcess): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exit;
  clearTimeout(timer);
}

/** Resolves when `check` returns true, polling; fails when the process dies or time runs out. */
export async function waitUntil(server: ServerProcess, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const poll = async () => {
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${server.name} did not become ready within ${timeoutMs} ms\n${server.recentOutput()}`);
  };
  await Promise.race([poll(), server.exited]);
}

/** Resolves when the process prints a line equal to `marker`. */
export async function waitForLine(server: ServerProcess, marker: string, timeoutMs: number): Promise<void> {
  let seen = false;
  server.child.stdout?.on('data', (chunk: Buffer) => {
    if (chunk.toString('utf8').split('\n').includes(marker)) seen = true;
  });
  await waitUntil(server, async () => seen, timeoutMs);
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ, the unit of /proc/<pid>/stat times on Linux

/** User plus system CPU milliseconds a process has used so far, from /proc on Linux. */
export function cpuMillis(pid: number | undefined): number | undefined {
  try {
    // The command name in parentheses may contain spaces; the fields after it are fixed.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** How the benchmarks start Tessera: on a 127.0.0.1 port, no Redis, no rate limits, warnings only. */
export function tesseraEnvironment(port: number, databaseUrl: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    TESSERA_ISSUER: `http://127.0.0.1:${port}`,
    DATABASE_URL: databaseUrl,
    REDIS_URL: '',
    TESSERA_RATE_LIMITS: 'false',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

/**
 * Tessera runs from packages/server/dist/, as `npm start` runs it, and the verifier's API server
 * imports @tessera/resource-server from its dist/, as an installed package is: `tsc` first for a
 * package whose src/ is newer than its dist/.
 */
export function buildIfNeeded(): void {
  for (const [workspace, entry] of [
    ['packages/server', 'dist/cli/main.js'],
    ['packages/resource-server', 'dist/index.js'],
  ] as const) {
    const built = join(workspace, entry);
    if (existsSync(built) && statSync(built).mtimeMs >= newest(join(workspace, 'src'))) continue;
    console.log(`building ${workspace}/dist/ ...`);
    const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', join(workspace, 'tsconfig.json')], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error(`the build of ${workspace} failed`);
  }
}

function newest(dir: string): number {
  return Math.max(...readdirSync(dir, { withFileTypes: true }).map((item) => (item.isDirectory() ? newest(join(dir, item.name)) : statSync(join(dir, item.name)).mtimeMs)));
}
