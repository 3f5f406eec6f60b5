/**
 * Tessera against node-oidc-provider, in one run on one machine: the refresh_token grant and token
 * introspection, req/s and latency for both, and the ratio; then the resource-server toolkit's cost
 * on an API read, and the standalone verifier's (@tessera/resource-server) in an API of its own. See bench/README.md.
 *
 *   npm run bench                                  # 10 s per scenario and server, 50 connections
 *   BENCH_DURATION=5 BENCH_CONNECTIONS=20 npm run bench
 *   npm run bench -- soak --minutes 10             # the soak run instead (bench/soak.ts)
 *   npm run bench -- verifier                      # only the standalone verifier's cost (bench/verifier.ts)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, platform, arch, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon, { type AutocannonResult } from 'autocannon';
import { loadConfig } from '../packages/server/src/config.js';
import { runApiBenchmark } from './api.js';
import { buildIfNeeded, cpuMillis, freeLoopbackPort, startProcess, stopProcess, tesseraEnvironment, waitForLine, waitUntil, type ServerProcess } from './children.js';
import { RESOURCE, type BenchFixtures } from './fixtures.js';
import { runSoak } from './soak.js';
import { runVerifierBenchmark } from './verifier.js';
import { printTable } from './table.js';
import { seedTessera } from './tessera-seed.js';

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

const settings = {
  duration: positiveInt('BENCH_DURATION', 10),
  warmup: positiveInt('BENCH_WARMUP', 1),
  connections: positiveInt('BENCH_CONNECTIONS', 50),
  // Every refresh request consumes a distinct pre-minted token; this bounds the rate a run can sustain.
  tokensPerSecond: positiveInt('BENCH_TOKENS_PER_SECOND', 10_000),
  // Set to a directory to have both servers write V8 CPU profiles there when they stop.
  profileArgs: process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [],
};
const tokenCount = (settings.duration + settings.warmup) * settings.tokensPerSecond;

type Scenario = 'introspection' | 'refresh_token';
const SCENARIOS: Scenario[] = ['introspection', 'refresh_token'];

interface Target {
  name: string;
  server: ServerProcess;
  origin: string;
  tokenPath: string;
  introspectionPath: string;
  fixtures: BenchFixtures;
  /** Index of the next unused refresh token. */
  nextRefresh: number;
  nextAccess: number;
}

function takeRefreshToken(target: Target): string {
  // Past the end, an empty token makes the request fail visibly rather than reuse a spent one.
  return target.fixtures.refreshTokens[target.nextRefresh++] ?? '';
}

function takeAccessToken(target: Target): string {
  const tokens = target.fixtures.accessTokens;
  return tokens[target.nextAccess++ % tokens.length]!;
}

function basicAuth(fixtures: BenchFixtures): string {
  const encode = (value: string) => encodeURIComponent(value);
  return 'Basic ' + Buffer.from(`${encode(fixtures.clientId)}:${encode(fixtures.clientSecret)}`).toString('base64');
}

function requestFor(target: Target, scenario: Scenario): { path: string; body: () => string } {
  return scenario === 'refresh_token'
    ? { path: target.tokenPath, body: () => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: takeRefreshToken(target) }).toString() }
    : { path: target.introspectionPath, body: () => new URLSearchParams({ token: takeAccessToken(target) }).toString() };
}

async function post(target: Target, path: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(target.origin + path, {
    method: 'POST',
    headers: { authorization: basicAuth(target.fixtures), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** One real request per scenario: a rotated refresh token (and no ID token), an active access token. */
async function verify(target: Target): Promise<void> {
  const presented = takeRefreshToken(target);
  const refreshed = await post(target, target.tokenPath, { grant_type: 'refresh_token', refresh_token: presented });
  const { refresh_token: successor, access_token: accessToken, id_token: idToken } = refreshed.body;
  if (refreshed.status !== 200 || typeof successor !== 'string' || successor === presented || typeof accessToken !== 'string' || idToken !== undefined) {
    throw new Error(`${target.name}: refresh_token grant did not rotate: ${refreshed.status} ${JSON.stringify(Object.keys(refreshed.body))}`);
  }
  const introspected = await post(target, target.introspectionPath, { token: takeAccessToken(target) });
  if (introspected.status !== 200 || introspected.body.active !== true) {
    throw new Error(`${target.name}: introspection is not active: ${introspected.status} ${JSON.stringify(introspected.body)}`);
  }
}

async function load(target: Target, scenario: Scenario, seconds: number): Promise<AutocannonResult> {
  const { path, body } = requestFor(target, scenario);
  const remaining = target.fixtures.refreshTokens.length - target.nextRefresh;
  if (scenario === 'refresh_token' && remaining < settings.connections) throw new Error(`${target.name}: out of pre-minted refresh tokens; raise BENCH_TOKENS_PER_SECOND`);
  return autocannon({
    url: target.origin,
    connections: settings.connections,
    duration: seconds,
    // Stops the run when the pre-minted refresh tokens run out, before any would be presented twice.
    ...(scenario === 'refresh_token' ? { maxOverallRequests: remaining } : {}),
    requests: [
      {
        method: 'POST',
        path,
        headers: { authorization: basicAuth(target.fixtures), 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (request) => ({ ...request, body: body() }),
      },
    ],
  });
}

interface Row {
  scenario: Scenario;
  server: string;
  result: AutocannonResult;
  /** CPU time the server process spent per answered request, when the OS tells (Linux). */
  cpuMsPerRequest: number | undefined;
  exhausted: boolean;
}

function printRows(rows: Row[]): void {
  const header = ['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'requests', 'non-2xx', 'errors'];
  const body = rows.map(({ scenario, server, result, cpuMsPerRequest }) => [
    scenario,
    server,
    result.requests.average.toFixed(0),
    result.latency.p50.toFixed(1),
    result.latency.p99.toFixed(1),
    cpuMsPerRequest === undefined ? '-' : cpuMsPerRequest.toFixed(2),
    String(result.requests.total),
    String(result.non2xx),
    String(result.errors + result.timeouts),
  ]);
  printTable(header, body, 2);
}

function printRatios(rows: Row[], goal: number): void {
  console.log('');
  const rate = (scenario: Scenario, server: string) => rows.find((row) => row.scenario === scenario && row.server === server)!.result.requests.average;
  for (const scenario of SCENARIOS) {
    const ratio = rate(scenario, 'tessera') / rate(scenario, 'oidc-provider');
    const persisted = rate(scenario, 'tessera') / rate(scenario, 'oidc-provider+sqlite');
    console.log(`${scenario.padEnd(14)} Tessera / oidc-provider = ${ratio.toFixed(2)}x  (goal ${goal}x: ${ratio >= goal ? 'met' : 'NOT met'});  Tessera / oidc-provider+sqlite = ${persisted.toFixed(2)}x`);
  }
  for (const row of rows) {
    if (row.exhausted) console.log(`note: ${row.server} used every pre-minted refresh token before ${settings.duration} s; raise BENCH_TOKENS_PER_SECOND`);
    const codes = Object.entries(row.result.statusCodeStats).filter(([code]) => !code.startsWith('2'));
    if (codes.length) console.log(`note: ${row.server} ${row.scenario} answered ${codes.map(([code, { count }]) => `${count}x ${code}`).join(', ')}`);
  }
}

async function main(): Promise<void> {
  const cpuList = cpus();
  console.log(`node ${process.version} on ${platform()}/${arch()}, ${cpuList[0]?.model ?? 'unknown CPU'} x ${cpuList.length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`);
  console.log(`${settings.duration} s per scenario and server after ${settings.warmup} s warm-up, ${settings.connections} connections, ${tokenCount} pre-minted pairs per server`);
  buildIfNeeded();

  const workDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const servers: ServerProcess[] = [];
  const stopAll = () => Promise.all(servers.map(stopProcess));
  const interrupted = () => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const tesseraPort = await freeLoopbackPort();
    // The tokens' resource is one the server knows, as every family's resource is once authorized.
    const tesseraEnv = tesseraEnvironment(tesseraPort, `sqlite:${join(workDir, 'bench.sqlite')}`, { TESSERA_RESOURCES: RESOURCE });

    const seedStart = performance.now();
    const tesseraFixtures = await seedTessera(loadConfig(tesseraEnv), tokenCount);
    console.log(`seeded Tessera in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
    const tessera = startProcess('tessera', [...settings.profileArgs, 'packages/server/dist/cli/main.js', 'start'], tesseraEnv);
    servers.push(tessera);

    console.log('starting node-oidc-provider (in memory, and on SQLite) and minting its tokens ...');
    const providers = [
      { name: 'oidc-provider', port: await freeLoopbackPort(), env: {} },
      { name: 'oidc-provider+sqlite', port: await freeLoopbackPort(), env: { BENCH_SQLITE: join(workDir, 'oidc-provider.sqlite') } },
    ].map((variant) => {
      const fixturesFile = join(workDir, `${variant.name}-fixtures.json`);
      const server = startProcess(variant.name, [...settings.profileArgs, '--import', 'tsx', 'bench/oidc-provider-server.ts'], {
        ...process.env,
        ...variant.env,
        BENCH_PORT: String(variant.port),
        BENCH_TOKENS: String(tokenCount),
        BENCH_OUTPUT: fixturesFile,
      });
      servers.push(server);
      return { ...variant, server, fixturesFile };
    });

    const tesseraOrigin = `http://127.0.0.1:${tesseraPort}`;
    await waitUntil(tessera, async () => (await fetch(`${tesseraOrigin}/.well-known/oauth-authorization-server`)).ok, 30_000);
    for (const provider of providers) await waitForLine(provider.server, 'ready', 180_000);

    const targets: Target[] = [
      { name: 'tessera', server: tessera, origin: tesseraOrigin, tokenPath: '/oauth/token', introspectionPath: '/oauth/introspect', fixtures: tesseraFixtures, nextRefresh: 0, nextAccess: 0 },
      ...providers.map((provider) => ({
        name: provider.name,
        server: provider.server,
        origin: `http://127.0.0.1:${provider.port}`,
        tokenPath: '/token',
        introspectionPath: '/token/introspection',
        fixtures: JSON.parse(readFileSync(provider.fixturesFile, 'utf8')) as BenchFixtures,
        nextRefresh: 0,
        nextAccess: 0,
      })),
    ];
    for (const target of targets) await verify(target);
    console.log('both servers rotate refresh tokens and introspect access tokens; measuring ...');

    const rows: Row[] = [];
    for (const scenario of SCENARIOS) {
      for (const target of targets) {
        const pid = target.server.child.pid;
        await Promise.race([load(target, scenario, settings.warmup), ...servers.map((server) => server.exited)]);
        const cpuBefore = cpuMillis(pid);
        const result = await Promise.race([load(target, scenario, settings.duration), ...servers.map((server) => server.exited)]);
        const cpuAfter = cpuMillis(pid);
        const cpuMsPerRequest = cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / result.requests.total;
        const exhausted = scenario === 'refresh_token' && target.nextRefresh >= target.fixtures.refreshTokens.length;
        rows.push({ scenario, server: target.name, result, cpuMsPerRequest, exhausted });
        console.log(`  ${scenario} ${target.name}: ${result.requests.average.toFixed(0)} req/s`);
      }
    }
    printRows(rows);
    printRatios(rows, 2);
    await Promise.all(servers.map(stopProcess));
    await runApiBenchmark({ ...settings, workDir });
    await runVerifierBenchmark({ ...settings, workDir });
  } finally {
    await stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** `npm run bench -- api` or `npm run bench -- verifier`: the in-process toolkit's or the standalone verifier's runs alone. */
async function partOnly(run: typeof runApiBenchmark | typeof runVerifierBenchmark): Promise<void> {
  buildIfNeeded();
  const workDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  try {
    await run({ ...settings, workDir });
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'soak') await runSoak(process.argv.slice(3));
else if (process.argv[2] === 'verifier') await partOnly(runVerifierBenchmark);
else if (process.argv[2] === 'api') await partOnly(runApiBenchmark);
else await main();
