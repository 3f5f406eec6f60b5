/**
 * The standalone verifier's cost (@tessera/resource-server): a project read served by an API of its
 * own (bench/verifier-api-server.ts) that checks Tessera's tokens through the Fastify adapter,
 * against the same read without authentication. Two resource servers are registered in Tessera as
 * `tessera resource create` registers them: one with opaque tokens, checked by introspection with
 * its credentials (answers cached 1 s, the verifier's default), one with JWT access tokens, checked
 * by signature against the JWKS. Each authenticated run has its own unauthenticated run sending the
 * very same requests (the public route ignores the header), so the load generator's work and the
 * request sizes match. The goal is each authenticated read at 80% or more of its baseline.
 */
import { join } from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../packages/server/src/config.js';
import { createResourceServer } from '../packages/server/src/core/resources/registered.js';
import { createRuntime } from '../packages/server/src/runtime.js';
import type { ApiBenchSettings } from './api.js';
import { freeLoopbackPort, startProcess, stopProcess, tesseraEnvironment, waitForLine, waitUntil, type ServerProcess } from './children.js';
import { measureInTurns, median, rate, SLICES_NOTE, type Slices } from './interleaved.js';
import { printTable } from './table.js';
import { seedFamilies } from './tessera-seed.js';
import type { VerifierApiSettings } from './verifier-api-server.js';

/** Many apps' tokens, as a real API sees them: every one is checked afresh once a cached answer expires. */
const TOKENS_PER_KIND = 200;
const GOAL = 0.8;
const PROJECT_ID = 'prj-bench';

type Kind = 'opaque' | 'jwt';

interface Seeded {
  settings: VerifierApiSettings;
  tokens: Record<Kind, string[]>;
}

/** Registers the two resource servers and mints their tokens through Tessera's own modules. */
async function seed(databaseUrl: string, issuer: string): Promise<Seeded> {
  const runtime = await createRuntime(loadConfig({ DATABASE_URL: databaseUrl, TESSERA_ISSUER: issuer, TESSERA_RATE_LIMITS: 'false' }));
  try {
    const { ctx } = runtime;
    const register = (uri: string, tokenFormat: Kind) =>
      createResourceServer(ctx, { uri, name: `Bench ${tokenFormat} API`, tokenFormat, accessTokenTtl: null, platformApiAccess: false });
    const opaque = await register('https://opaque.bench.example/api', 'opaque');
    const jwt = await register('https://jwt.bench.example/api', 'jwt');
    const tokens = {
      opaque: (await seedFamilies(ctx, { count: TOKENS_PER_KIND, resource: opaque.resource.uri, email: 'opaque@bench.example' })).accessTokens,
      jwt: (await seedFamilies(ctx, { count: TOKENS_PER_KIND, resource: jwt.resource.uri, email: 'jwt@bench.example' })).accessTokens,
    };
    return {
      settings: {
        issuer,
        projectId: PROJECT_ID,
        opaque: { resource: opaque.resource.uri, clientId: opaque.resource.client_id, clientSecret: opaque.clientSecret },
        jwt: { resource: jwt.resource.uri },
      },
      tokens,
    };
  } finally {
    await runtime.close();
  }
}

interface Run {
  label: string;
  path: string;
  tokens: string[];
}


export async function runVerifierBenchmark(settings: ApiBenchSettings): Promise<void> {
  const tesseraPort = await freeLoopbackPort();
  const tesseraEnv = tesseraEnvironment(tesseraPort, `sqlite:${join(settings.workDir, 'verifier.sqlite')}`);
  const { settings: apiSettings, tokens } = await seed(tesseraEnv.DATABASE_URL!, tesseraEnv.TESSERA_ISSUER!);

  const servers: ServerProcess[] = [];
  try {
    const tessera = startProcess('tessera', [...settings.profileArgs, 'packages/server/dist/cli/main.js', 'start'], tesseraEnv);
    servers.push(tessera);
    await waitUntil(tessera, async () => (await fetch(`${apiSettings.issuer}/.well-known/oauth-authorization-server`)).ok, 30_000);
    const apiPort = await freeLoopbackPort();
    const api = startProcess('verifier-api', [...settings.profileArgs, '--import', 'tsx', 'bench/verifier-api-server.ts'], {
      ...process.env,
      PORT: String(apiPort),
      BENCH_VERIFIER_API: JSON.stringify(apiSettings),
    });
    servers.push(api);
    await waitForLine(api, 'ready', 60_000);
    const origin = `http://127.0.0.1:${apiPort}`;

    // One real request each: both kinds of token pass, and the guarded routes refuse a request without one.
    for (const kind of ['opaque', 'jwt'] as const) {
      const path = `/${kind}/projects/${PROJECT_ID}`;
      const passed = await fetch(origin + path, { headers: { authorization: `Bearer ${tokens[kind][0]}` } });
      if (passed.status !== 200) throw new Error(`${kind}: the verifier refused a valid token: ${passed.status} ${await passed.text()}`);
      const refused = await fetch(origin + path);
      if (refused.status !== 401) throw new Error(`${kind}: a request without a token answered ${refused.status}`);
    }

    const runs: Run[] = [
      { label: 'none (opaque header)', path: `/public/projects/${PROJECT_ID}`, tokens: tokens.opaque },
      { label: 'introspection', path: `/opaque/projects/${PROJECT_ID}`, tokens: tokens.opaque },
      { label: 'none (JWT header)', path: `/public/projects/${PROJECT_ID}`, tokens: tokens.jwt },
      { label: 'JWT', path: `/jwt/projects/${PROJECT_ID}`, tokens: tokens.jwt },
    ];
    const load = (run: Run, seconds: number) => {
      let next = 0;
      const requests = [{ method: 'GET' as const, path: run.path, setupRequest: (request: object) => ({ ...request, headers: { authorization: `Bearer ${run.tokens[next++ % run.tokens.length]}` } }) }];
      return Promise.race([autocannon({ url: origin, connections: settings.connections, duration: seconds, requests }), ...servers.map((server) => server.exited)]);
    };
    const rows: Array<Slices<Run>> = [];
    for (const pair of [[runs[0]!, runs[1]!], [runs[2]!, runs[3]!]] as const) {
      const totals = await measureInTurns(pair, load, settings, [api.child.pid, tessera.child.pid]);
      for (const row of totals) console.log(`  verifier ${row.run.label}: ${rate(row).toFixed(0)} req/s`);
      rows.push(...totals);
    }

    console.log('\nAPI read (GET a project) in a service of its own, through @tessera/resource-server vs the same read without it');
    const perRequest = (cpuMs: number | undefined, requests: number, digits: number) => (cpuMs === undefined ? '-' : (cpuMs / requests).toFixed(digits));
    printTable(
      ['authentication', 'req/s', 'p50 ms', 'p99 ms', 'API CPU ms/req', 'Tessera CPU ms/req', 'requests', 'non-2xx', 'errors'],
      rows.map((row) => [
        row.run.label,
        rate(row).toFixed(0),
        median(row.p50s).toFixed(1),
        Math.max(...row.p99s).toFixed(1),
        perRequest(row.cpuMs[0], row.requests, 3),
        perRequest(row.cpuMs[1], row.requests, 3),
        String(row.requests),
        String(row.non2xx),
        String(row.errors),
      ]),
      1,
    );
    console.log(`(${SLICES_NOTE})\n`);
    for (const [baseline, verified] of [[rows[0]!, rows[1]!], [rows[2]!, rows[3]!]] as const) {
      const ratio = rate(verified) / rate(baseline);
      console.log(`${verified.run.label.padEnd(14)} verified / unauthenticated = ${(ratio * 100).toFixed(0)}%  (goal ${GOAL * 100}%: ${ratio >= GOAL ? 'met' : 'NOT met'})`);
    }
    for (const row of rows) {
      const codes = [...row.statusCodes].filter(([code]) => !code.startsWith('2'));
      if (codes.length) console.log(`note: ${row.run.label} answered ${codes.map(([code, count]) => `${count}x ${code}`).join(', ')}`);
    }
  } finally {
    await Promise.all(servers.map(stopProcess));
  }
}
