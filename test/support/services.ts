/**
 * Private PostgreSQL and Redis servers for the chaos tests, which stop and restart them under a
 * running Tessera. Each lives in a temporary directory on a free loopback port and is gone after
 * the test. PostgreSQL refuses to run as root, so as root it runs as the `postgres` OS user.
 * When the binaries are missing, `startPostgres`/`startRedis` return why, for the test to skip.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from './server.js';

/** A program on PATH, or in Debian's versioned PostgreSQL directory. */
function findBinary(name: string): string | undefined {
  const versioned = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)).map((version) => `/usr/lib/postgresql/${version}/bin`)
    : [];
  return [...(process.env.PATH ?? '').split(delimiter), ...versioned].map((dir) => join(dir, name)).find((path) => existsSync(path));
}

const POSTGRES_MISSING = 'PostgreSQL binaries (initdb, pg_ctl) are not installed; .ci/run installs them';
const REDIS_MISSING = 'redis-server is not installed; .ci/run installs it';

/** Why a test that needs its own PostgreSQL must skip; undefined when it can run. */
export function postgresMissing(): string | undefined {
  return findBinary('initdb') && findBinary('pg_ctl') ? undefined : POSTGRES_MISSING;
}

/** Why a test that needs its own Redis must skip; undefined when it can run. */
export function redisMissing(): string | undefined {
  return findBinary('redis-server') ? undefined : REDIS_MISSING;
}

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /** A URL for another database on this server. */
  urlFor(database: string): string;
  /** `pg_ctl stop -m immediate`: every backend killed at once, as in a crash or a failover. */
  kill(): Promise<void>;
  /** SIGSTOP to the server and its backends: connections stay open and nothing answers, as behind a network partition. */
  pause(): void;
  resume(): void;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

const POSTGRES_USER = 'postgres';

export async function startPostgres(): Promise<PostgresServer | string> {
  const initdb = findBinary('initdb');
  const pgCtl = findBinary('pg_ctl');
  if (!initdb || !pgCtl) return POSTGRES_MISSING;
  const asRoot = process.getuid?.() === 0;
  let owner: { uid: number; gid: number } | undefined;
  if (asRoot) {
    try {
      owner = { uid: Number(execFileSync('id', ['-u', POSTGRES_USER], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', POSTGRES_USER], { encoding: 'utf8' })) };
    } catch {
      return `running as root, and there is no ${POSTGRES_USER} OS user to run PostgreSQL as`;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'tessera-chaos-pg-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', POSTGRES_USER, '--', command, ...args]] : [command, args];
    execFileSync(file, argv, { stdio: 'pipe', timeout: 60_000 });
  };
  run(initdb, ['-D', data, '-U', POSTGRES_USER, '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  // fsync off: the tests kill PostgreSQL, never the machine, so the page cache keeps what was written.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=50`;
  const start = async () => run(pgCtl, ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', options, 'start']);
  await start();
  const url = `postgres://${POSTGRES_USER}@127.0.0.1:${port}/postgres`;
  /** This server's processes: the postmaster (first line of postmaster.pid) and its children. */
  const processes = () => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean);
    return [postmaster, ...children];
  };
  const signal = (name: NodeJS.Signals) => {
    for (const pid of processes()) process.kill(pid, name);
  };
  return {
    url,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    urlFor: (database) => `postgres://${POSTGRES_USER}@127.0.0.1:${port}/${database}`,
    kill: async () => run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']),
    start,
    async dispose() {
      try {
        signal('SIGCONT');
        run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates an empty database on `server`. */
export async function createDatabase(server: PostgresServer, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return server.urlFor(name);
}

export interface RedisServer {
  url: string;
  /** SIGKILL: the connection drops with no goodbye. */
  kill(): Promise<void>;
  /** Starts again on the same port, empty. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer | string> {
  const binary = findBinary('redis-server');
  if (!binary) return REDIS_MISSING;
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await answers(port)) return;
      await sleep(20);
    }
    throw new Error('redis-server did not start');
  };
  const kill = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, kill, start, dispose: kill };
}

/** Whether something accepts TCP connections on the loopback port. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
