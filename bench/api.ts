/**
 * The resource-server toolkit's cost: one project read authenticated with an access token, and the
 * same read with no authentication, side by side on one server. The goal is the authenticated read
 * at 80% or more of the unauthenticated throughput.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freeLoopbackPort, startProcess, stopProcess, waitForLine } from './children.js';
import { measureInTurns, median, rate, SLICES_NOTE } from './interleaved.js';

export interface ApiBenchSettings {
  duration: number;
  warmup: number;
  connections: number;
  workDir: string;
  profileArgs: string[];
}

export async function runApiBenchmark(settings: ApiBenchSettings): Promise<void> {
  const port = await freeLoopbackPort();
  const output = join(settings.workDir, 'api-fixtures.json');
  const server = startProcess('api', [...settings.profileArgs, '--import', 'tsx', 'bench/api-server.ts'], {
    ...process.env,
    PORT: String(port),
    TESSERA_ISSUER: `http://127.0.0.1:${port}`,
    DATABASE_URL: `sqlite:${join(settings.workDir, 'api.sqlite')}`,
    BENCH_OUTPUT: output,
    REDIS_URL: '',
    TESSERA_RATE_LIMITS: 'false',
  });
  try {
    await waitForLine(server, 'ready', 60_000);
    const { projectId, accessTokens } = JSON.parse(readFileSync(output, 'utf8')) as { projectId: string; accessTokens: string[] };
    let next = 0;
    // Both runs send the same requests (many apps' tokens, as a real API sees them, not one token
    // cached forever), so the load generator does the same work; the public route ignores the header.
    const load = (path: string, seconds: number) =>
      autocannon({
        url: `http://127.0.0.1:${port}`,
        connections: settings.connections,
        duration: seconds,
        requests: [{ method: 'GET', path, setupRequest: (request) => ({ ...request, headers: { authorization: `Bearer ${accessTokens[next++ % accessTokens.length]}` } }) }],
      });
    const [unauthenticated, authenticated] = await measureInTurns([`/public/projects/${projectId}`, `/api/projects/${projectId}`] as const, load, settings, [server.child.pid]);
    console.log('\nAPI read (GET a project), resource-server toolkit vs the same read without it');
    for (const [label, slices] of [['no authentication', unauthenticated], ['access token', authenticated]] as const) {
      if (slices.non2xx > 0) throw new Error(`API read with ${label} answered ${slices.non2xx} non-2xx responses`);
      const cpu = slices.cpuMs[0] === undefined ? '' : `, ${(slices.cpuMs[0] / slices.requests).toFixed(3)} CPU ms/req`;
      console.log(`  ${label.padEnd(18)} ${rate(slices).toFixed(0).padStart(6)} req/s  p50 ${median(slices.p50s)} ms  p99 ${Math.max(...slices.p99s)} ms  (${slices.requests} requests${cpu})`);
    }
    const ratio = rate(authenticated) / rate(unauthenticated);
    console.log(`  authenticated / unauthenticated = ${(ratio * 100).toFixed(0)}%  (goal 80%: ${ratio >= 0.8 ? 'met' : 'NOT met'}; ${SLICES_NOTE})`);
  } finally {
    await stopProcess(server);
  }
}
