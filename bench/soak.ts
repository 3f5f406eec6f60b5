/**
 * The soak run (`npm run bench -- soak`): Tessera under steady mixed traffic for a number of
 * minutes, on SQLite and on PostgreSQL, to show that it neither slows down nor grows. Workers loop
 * over four kinds of requests, each checked for the right answer:
 *
 * - `code`: the authorization endpoint (signed in, consent already given) and the code exchange;
 * - `refresh`: refreshes, one in ten sent twice at once (a client retrying in parallel), where both
 *   must get the same successor;
 * - `introspect`: introspection of recently issued access tokens;
 * - `api`: a platform API read through the resource-server toolkit.
 *
 * Printed each minute: requests per second, p99 per kind, errors, and the server's resident memory;
 * at the end, memory at the start (after a warm-up) and at the end.
 *
 *   npm run bench -- soak --minutes 10 --database sqlite
 *   npm run bench -- soak --minutes 3 --database postgres --postgres-url postgres://postgres@127.0.0.1:5432/test
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createOrganization, createProject } from '../packages/server/src/platform/accounts/organizations.js';
import { createSession } from '../packages/server/src/platform/accounts/sessions.js';
import { loadConfig } from '../packages/server/src/config.js';
import { s256 } from '../packages/server/src/core/oauth/pkce.js';
import { createRuntime } from '../packages/server/src/runtime.js';
import { buildIfNeeded, freeLoopbackPort, startProcess, stopProcess, waitUntil } from './children.js';
import { SCOPE } from './fixtures.js';
import { seedFamilies } from './tessera-seed.js';

type Kind = 'code' | 'refresh' | 'introspect' | 'api';
const KINDS: Kind[] = ['code', 'refresh', 'introspect', 'api'];
/** Workers per kind: refreshes are the write-heavy core, introspection and API reads the read-heavy rest. */
const WORKERS: Record<Kind, number> = { code: 2, refresh: 6, introspect: 4, api: 4 };
const PARALLEL_RETRY_SHARE = 0.1;
const WARMUP_SECONDS = 15;
const REDIRECT_URI = 'http://127.0.0.1/callback';
const SEEDED_FAMILIES = 2000;
/** The refresh tokens waiting for their next refresh; new code exchanges add to it, up to this. */
const MAX_POOL = 5000;
const RECENT_ACCESS_TOKENS = 1000;

interface Fixtures {
  clientId: string;
  clientSecret: string;
  refreshTokens: string[];
  accessTokens: string[];
  projectId: string;
  sessionCookie: string;
}

/** Seeds through the project's modules: the token families, a project the user owns, a browser session. */
async function seed(databaseUrl: string): Promise<Fixtures> {
  const runtime = await createRuntime(loadConfig({ DATABASE_URL: databaseUrl, TESSERA_RATE_LIMITS: 'false' }));
  try {
    const { ctx } = runtime;
    const seeded = await seedFamilies(ctx, { count: SEEDED_FAMILIES, resource: null });
    const organization = await createOrganization(ctx.store, { name: 'Soak Org', ownerId: seeded.userId }, ctx.now());
    const project = await createProject(ctx.store, { organizationId: organization.id, name: 'Soak Project' }, ctx.now());
    const session = await createSession(ctx.store, seeded.userId, ['pwd'], ctx.now(), ctx.config.ttl.session);
    return { ...seeded, projectId: project.id, sessionCookie: `tessera_session=${session}` };
  } finally {
    await runtime.close();
  }
}

/** Resident memory of a process in MiB, from /proc (Linux). */
function residentMiB(pid: number | undefined): number | undefined {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)]! : NaN;
}

interface Minute {
  latencies: Record<Kind, number[]>;
  errors: Map<string, number>;
}

const newMinute = (): Minute => ({ latencies: { code: [], refresh: [], introspect: [], api: [] }, errors: new Map() });

async function soakOne(name: string, databaseUrl: string, minutes: number): Promise<void> {
  console.log(`\n== ${name}: seeding ${SEEDED_FAMILIES} token families ...`);
  const fixtures = await seed(databaseUrl);
  const port = await freeLoopbackPort();
  const metricsPort = await freeLoopbackPort();
  const origin = `http://127.0.0.1:${port}`;
  const server = startProcess('tessera', ['packages/server/dist/cli/main.js', 'start'], {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    TESSERA_ISSUER: origin,
    DATABASE_URL: databaseUrl,
    REDIS_URL: '',
    TESSERA_RATE_LIMITS: 'false',
    TESSERA_METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'warn',
  });
  /** The server's V8 heap in use, in MiB, from its own metrics: what the JavaScript holds, apart from SQLite's page cache and the allocator. */
  const heapUsedMiB = async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const bytes = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1];
    return bytes === undefined ? undefined : Number(bytes) / 2 ** 20;
  };
  try {
    await waitUntil(server, async () => (await fetch(`${origin}/readyz`)).ok, 60_000);
    const pid = server.child.pid;
    const authorization = 'Basic ' + Buffer.from(`${encodeURIComponent(fixtures.clientId)}:${encodeURIComponent(fixtures.clientSecret)}`).toString('base64');
    const pool = [...fixtures.refreshTokens];
    const recentAccess = [...fixtures.accessTokens.slice(-RECENT_ACCESS_TOKENS)];
    const keepAccess = (token: string) => {
      recentAccess.push(token);
      if (recentAccess.length > RECENT_ACCESS_TOKENS) recentAccess.shift();
    };
    const pickAccess = () => recentAccess[Math.floor(Math.random() * recentAccess.length)]!;

    let minute = newMinute();
    let measuring = false;
    const fail = (what: string): void => void minute.errors.set(what, (minute.errors.get(what) ?? 0) + 1);
    const timed = async <T>(kind: Kind, request: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      const result = await request();
      if (measuring) minute.latencies[kind].push(performance.now() - started);
      return result;
    };
    const form = (body: Record<string, string>) => ({ method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    const tokenRequest = async (body: Record<string, string>) => {
      const response = await fetch(`${origin}/oauth/token`, form(body));
      return { status: response.status, body: (await response.json()) as Record<string, string> };
    };

    const steps: Record<Kind, () => Promise<void>> = {
      async code() {
        const verifier = randomBytes(32).toString('base64url');
        const query = new URLSearchParams({ response_type: 'code', client_id: fixtures.clientId, redirect_uri: REDIRECT_URI, scope: SCOPE, state: 's', code_challenge: s256(verifier), code_challenge_method: 'S256' });
        const code = await timed('code', async () => {
          const response = await fetch(`${origin}/oauth/authorize?${query}`, { headers: { cookie: fixtures.sessionCookie }, redirect: 'manual' });
          await response.arrayBuffer();
          return response.status === 302 ? new URL(response.headers.get('location')!).searchParams.get('code') : null;
        });
        if (!code) return fail('code: authorize did not redirect with a code');
        const exchanged = await timed('code', () => tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }));
        if (exchanged.status !== 200) return fail(`code: exchange ${exchanged.status} ${exchanged.body.error}`);
        keepAccess(exchanged.body.access_token!);
        if (pool.length < MAX_POOL) pool.push(exchanged.body.refresh_token!);
      },
      async refresh() {
        const presented = pool.shift();
        if (!presented) return fail('refresh: no refresh token left');
        const parallel = Math.random() < PARALLEL_RETRY_SHARE ? 2 : 1;
        const answers = await timed('refresh', () => Promise.all(Array.from({ length: parallel }, () => tokenRequest({ grant_type: 'refresh_token', refresh_token: presented }))));
        if (answers.some((answer) => answer.status !== 200)) return fail(`refresh: ${answers.map((answer) => `${answer.status} ${answer.body.error ?? ''}`).join(', ')}`);
        if (new Set(answers.map((answer) => answer.body.refresh_token)).size !== 1) return fail('refresh: parallel retries got different successors');
        keepAccess(answers[0]!.body.access_token!);
        pool.push(answers[0]!.body.refresh_token!);
      },
      async introspect() {
        const answer = await timed('introspect', async () => {
          const response = await fetch(`${origin}/oauth/introspect`, form({ token: pickAccess() }));
          return { status: response.status, body: (await response.json()) as { active?: boolean } };
        });
        if (answer.status !== 200 || answer.body.active !== true) fail(`introspect: ${answer.status} active=${answer.body.active}`);
      },
      async api() {
        const status = await timed('api', async () => {
          const response = await fetch(`${origin}/api/projects/${fixtures.projectId}`, { headers: { authorization: `Bearer ${pickAccess()}` } });
          await response.arrayBuffer();
          return response.status;
        });
        if (status !== 200) fail(`api: ${status}`);
      },
    };

    let running = true;
    const worker = async (kind: Kind) => {
      while (running) {
        try {
          await steps[kind]();
        } catch (error) {
          fail(`${kind}: ${(error as Error).message}`);
        }
      }
    };
    const workers = Promise.all(KINDS.flatMap((kind) => Array.from({ length: WORKERS[kind] }, () => worker(kind))));

    const rssBefore = residentMiB(pid);
    await new Promise((resolve) => setTimeout(resolve, WARMUP_SECONDS * 1000));
    const rssStart = residentMiB(pid);
    const heapStart = await heapUsedMiB();
    console.log(`server RSS ${rssBefore?.toFixed(0)} MiB before the load, ${rssStart?.toFixed(0)} MiB (V8 heap ${heapStart?.toFixed(0)} MiB) after a ${WARMUP_SECONDS} s warm-up; measuring ${minutes} min`);
    const widths = [6, 9, ...KINDS.map(() => 16), 9, 7, 8, 9];
    const row = (cells: string[]) => cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join(' ');
    console.log(row(['minute', 'req/s', ...KINDS.map((kind) => `${kind} p99 (n)`), 'all p99', 'errors', 'RSS MiB', 'heap MiB']));

    const totals = { requests: 0, errors: 0 };
    const minutesP99: number[] = [];
    for (let index = 1; index <= minutes; index++) {
      minute = newMinute();
      measuring = true;
      const startedAt = performance.now();
      await Promise.race([new Promise((resolve) => setTimeout(resolve, 60_000)), server.exited]);
      const seconds = (performance.now() - startedAt) / 1000;
      const done = minute;
      const all = KINDS.flatMap((kind) => done.latencies[kind]).sort((a, b) => a - b);
      const errors = [...done.errors.values()].reduce((sum, count) => sum + count, 0);
      const rss = residentMiB(pid);
      const heap = await heapUsedMiB();
      totals.requests += all.length;
      totals.errors += errors;
      minutesP99.push(percentile(all, 0.99));
      const p99s = KINDS.map((kind) => `${percentile(done.latencies[kind].sort((a, b) => a - b), 0.99).toFixed(1)} ms (${done.latencies[kind].length})`);
      console.log(row([String(index), (all.length / seconds).toFixed(0), ...p99s, percentile(all, 0.99).toFixed(1), String(errors), rss?.toFixed(0) ?? '-', heap?.toFixed(0) ?? '-']));
      for (const [what, count] of done.errors) console.log(`       ${count} x ${what}`);
    }
    running = false;
    await workers;
    const rssEnd = residentMiB(pid);
    const heapEnd = await heapUsedMiB();
    console.log(
      `${name}: ${totals.requests} requests in ${minutes} min (${(totals.requests / (minutes * 60)).toFixed(0)} req/s), ${totals.errors} errors; ` +
        `p99 per minute ${Math.min(...minutesP99).toFixed(1)} to ${Math.max(...minutesP99).toFixed(1)} ms; server RSS ${rssStart?.toFixed(0)} MiB after warm-up, ${rssEnd?.toFixed(0)} MiB at the end (V8 heap ${heapStart?.toFixed(0)} and ${heapEnd?.toFixed(0)} MiB)`,
    );
  } finally {
    await stopProcess(server);
  }
}

/** A schema of its own on the PostgreSQL server, named in the URL every connection uses; dropped afterwards. */
async function withPostgresSchema(url: string, run: (databaseUrl: string) => Promise<void>): Promise<void> {
  const schema = `soak_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    const scoped = new URL(url);
    scoped.searchParams.set('options', `-c search_path=${schema}`);
    await run(scoped.href);
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

export async function runSoak(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '10' },
      database: { type: 'string', default: 'sqlite' },
      'postgres-url': { type: 'string', default: process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? '' },
    },
  });
  const minutes = Number(values.minutes);
  if (!Number.isInteger(minutes) || minutes < 1) throw new Error('--minutes must be a positive integer');
  const databases = values.database === 'both' ? ['sqlite', 'postgres'] : [values.database];
  if (databases.some((database) => database !== 'sqlite' && database !== 'postgres')) throw new Error('--database must be sqlite, postgres or both');
  if (databases.includes('postgres') && !values['postgres-url']) throw new Error('--database postgres needs --postgres-url (or BENCH_DATABASE_URL)');
  console.log(`soak: ${minutes} min per database after a ${WARMUP_SECONDS} s warm-up, ${Object.values(WORKERS).reduce((a, b) => a + b)} workers (${KINDS.map((kind) => `${WORKERS[kind]} ${kind}`).join(', ')}), node ${process.version}, ${cpus().length} cores shared by the server and the load`);
  buildIfNeeded();
  for (const database of databases) {
    if (database === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-soak-'));
      try {
        await soakOne('SQLite', `sqlite:${join(dir, 'soak.sqlite')}`, minutes);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } else {
      await withPostgresSchema(values['postgres-url'], (url) => soakOne('PostgreSQL', url, minutes));
    }
  }
}
