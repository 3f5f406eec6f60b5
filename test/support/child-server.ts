/**
 * `tessera start` (or `tessera front`) as a child process, as an operator runs it: for tests whose
 * point is what happens to the process itself (it must not exit, it must exit 0 on SIGTERM) and
 * to what it writes (JSON lines on stdout, the banner on stderr and nothing else).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './server.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TesseraProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** Complete lines so far. */
  stdout: string[];
  stderr: string[];
  exited: Promise<Exit>;
  /** Whether the process is still running. */
  running(): boolean;
  /** Resolves with the first stdout line that `matches`, among those from index `since` on (every line by default). */
  waitForLine(matches: (line: string) => boolean, timeoutMs: number, since?: number): Promise<string>;
  /** Sends `signal` (SIGKILL after 10 s) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

function collectLines(stream: NodeJS.ReadableStream, into: string[]): void {
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop()!;
    into.push(...lines);
  });
  stream.on('end', () => {
    if (partial) into.push(partial);
  });
}

/**
 * Starts Tessera with `env` on top of this process's environment (without its REDIS_URL), on a free
 * port unless `env.PORT` names one, and waits until `/healthz` (`live`) or `/readyz` (`ready`) answers 200.
 */
export async function startTesseraProcess(env: Record<string, string>, options: { command?: 'start' | 'front'; until?: 'live' | 'ready' } = {}): Promise<TesseraProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const url = `http://127.0.0.1:${port}`;
  const childEnv: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: String(port), TESSERA_ISSUER: url, LOG_LEVEL: 'info', ...env };
  if (!env.REDIS_URL) delete childEnv.REDIS_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/cli/main.ts', options.command ?? 'start'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(child.stdout!, stdout);
  collectLines(child.stderr!, stderr);
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  const output = () => [...stdout, ...stderr].join('\n');

  const probe = options.until === 'ready' ? '/readyz' : '/healthz';
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!running()) throw new Error(`tessera exited with ${child.exitCode ?? child.signalCode}:\n${output()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tessera did not answer ${probe} with 200:\n${output()}`);
    }
    const ok = await fetch(`${url}${probe}`).then((response) => response.ok, () => false);
    if (ok) break;
    await sleep(100);
  }

  return {
    child,
    url,
    port,
    stdout,
    stderr,
    exited,
    running,
    async waitForLine(matches, timeoutMs, since = 0) {
      const until = Date.now() + timeoutMs;
      for (let seen = since; Date.now() < until; await sleep(10)) {
        for (; seen < stdout.length; seen++) if (matches(stdout[seen]!)) return stdout[seen]!;
      }
      throw new Error(`no such line within ${timeoutMs} ms:\n${output()}`);
    },
    async stop(signal = 'SIGTERM') {
      if (running()) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const exit = await exited;
        clearTimeout(timer);
        return exit;
      }
      return exited;
    },
  };
}

/** stdout lines that are not JSON objects: anything but the structured log. */
export function unstructuredLines(lines: string[]): string[] {
  return lines.filter((line) => {
    if (line.trim() === '') return false;
    try {
      const parsed: unknown = JSON.parse(line);
      return typeof parsed !== 'object' || parsed === null;
    } catch {
      return true;
    }
  });
}

/** The JSON log lines whose `msg` contains `text`. */
export function logLines(lines: string[], text: string): Array<Record<string, unknown>> {
  return lines.flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      return typeof parsed.msg === 'string' && parsed.msg.includes(text) ? [parsed] : [];
    } catch {
      return [];
    }
  });
}
