/**
 * Graceful shutdown of `tessera start` (a child process): a refresh in flight when SIGTERM arrives
 * gets its answer (and its rotation is kept), new connections are refused from then on, and the
 * process exits 0. A request that outlasts TESSERA_SHUTDOWN_TIMEOUT is cut off and the exit code
 * says so. `tessera front` has the probes and the same shutdown. In process: once a shutdown has
 * begun, /readyz answers 503.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { seedFamilies } from '../../bench/tessera-seed.js';
import { loadConfig } from '../../packages/server/src/config.js';
import { hashToken } from '../../packages/server/src/core/crypto/token-formats.js';
import { createRuntime } from '../../packages/server/src/runtime.js';
import { logLines, startTesseraProcess, type TesseraProcess } from '../support/child-server.js';
import { sqliteTarget } from '../support/database.js';
import { basicAuth } from '../support/oauth-client.js';
import { freePort, startTestServer } from '../support/server.js';

/** A POST whose body is sent in two parts: the server has the request before the second. */
function postInTwoParts(url: string, path: string, headers: Record<string, string>, body: string): { request: ClientRequest; finish(): void; answer: Promise<{ status: number; body: string }> } {
  const request = httpRequest(`${url}${path}`, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
  });
  answer.catch(() => undefined);
  request.write(body.slice(0, 10));
  return { request, finish: () => request.end(body.slice(10)), answer };
}

/** Resolves once the listener refuses new connections. */
async function refusingConnections(url: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (await fetch(`${url}/healthz`).then(() => true, () => false)) {
    assert.ok(Date.now() < deadline, 'new connections are refused soon after the signal');
    await sleep(10);
  }
}

describe('graceful shutdown', () => {
  let database: Awaited<ReturnType<typeof sqliteTarget.create>>;
  let seeded: Awaited<ReturnType<typeof seedFamilies>>;
  let tessera: TesseraProcess | undefined;
  before(async () => {
    database = await sqliteTarget.create();
    const runtime = await createRuntime(loadConfig({ DATABASE_URL: database.url, TESSERA_RATE_LIMITS: 'false' }));
    seeded = await seedFamilies(runtime.ctx, { count: 2, resource: null }).finally(() => runtime.close());
  });
  after(async () => {
    await tessera?.stop('SIGKILL');
    await database.drop();
  });

  const refreshRequest = (token: string) => ({
    headers: { authorization: basicAuth(seeded.clientId, seeded.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
  });

  it('answers the refresh in flight when SIGTERM arrives, refuses new connections, and exits 0', async () => {
    tessera = await startTesseraProcess({ DATABASE_URL: database.url, TESSERA_RATE_LIMITS: 'false' }, { until: 'ready' });
    const { headers, body } = refreshRequest(seeded.refreshTokens[0]!);
    const inFlight = postInTwoParts(tessera.url, '/oauth/token', headers, body);
    await tessera.waitForLine((line) => line.includes('incoming request') && line.includes('/oauth/token'), 10_000);

    tessera.child.kill('SIGTERM');
    await refusingConnections(tessera.url);
    assert.ok(tessera.running(), 'still running while a request is in flight');
    inFlight.finish();

    const answer = await inFlight.answer;
    assert.equal(answer.status, 200, answer.body);
    const issued = JSON.parse(answer.body) as { refresh_token: string; access_token: string };
    assert.ok(issued.refresh_token.startsWith('phr_'));
    assert.deepEqual(await tessera.exited, { code: 0, signal: null });
    assert.equal(logLines(tessera.stdout, 'shutting down').length, 1);

    // The answer given during the shutdown was committed.
    const runtime = await createRuntime(loadConfig({ DATABASE_URL: database.url, TESSERA_RATE_LIMITS: 'false' }));
    try {
      const row = await runtime.store.kysely.selectFrom('refresh_tokens').select('token_hash').where('token_hash', '=', hashToken(issued.refresh_token)).executeTakeFirst();
      assert.ok(row, 'the rotation answered during the shutdown is in the database');
    } finally {
      await runtime.close();
    }
  });

  it('cuts off a request that outlasts TESSERA_SHUTDOWN_TIMEOUT, and exits 1', async () => {
    tessera = await startTesseraProcess({ DATABASE_URL: database.url, TESSERA_RATE_LIMITS: 'false', TESSERA_SHUTDOWN_TIMEOUT: '1' }, { until: 'ready' });
    const { headers, body } = refreshRequest(seeded.refreshTokens[1]!);
    const stuck = postInTwoParts(tessera.url, '/oauth/token', headers, body); // never finished
    await tessera.waitForLine((line) => line.includes('incoming request') && line.includes('/oauth/token'), 10_000);
    const signalledAt = Date.now();
    tessera.child.kill('SIGTERM');
    assert.deepEqual(await tessera.exited, { code: 1, signal: null });
    const took = Date.now() - signalledAt;
    assert.ok(took >= 900 && took < 5000, `exited ${took} ms after the signal`);
    await assert.rejects(stuck.answer);
    assert.equal(logLines(tessera.stdout, 'closing the connections of requests still in flight').length, 1);
  });

  it('runs `tessera front` the same way: probes, and exit 0 on SIGTERM', async () => {
    const [us, eu] = [await freePort(), await freePort()];
    const front = await startTesseraProcess(
      { TESSERA_REGIONS: `us=http://127.0.0.1:${us},eu=http://127.0.0.1:${eu}`, TESSERA_FRONT_TIMEOUT_MS: '500' },
      { command: 'front', until: 'live' },
    );
    try {
      const readiness = await fetch(`${front.url}/readyz`);
      assert.equal(readiness.status, 503, 'no region answers');
      assert.match(((await readiness.json()) as { regions: { us: string } }).regions.us, /^unreachable/);
      front.child.kill('SIGTERM');
      assert.deepEqual(await front.exited, { code: 0, signal: null });
      assert.equal(logLines(front.stdout, 'shut down').length, 1);
    } finally {
      await front.stop('SIGKILL');
    }
  });

  it('answers /readyz 503 once a shutdown has begun, on a connection kept open by a request in flight', async () => {
    const server = await startTestServer(sqliteTarget);
    try {
      // One connection, two requests: a token request whose body is held back, then /readyz behind it.
      const { headers, body } = refreshRequest('phr_unused');
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const ended = once(socket, 'close');
      const head = Object.entries({ ...headers, host: 'tessera.test', 'content-length': String(body.length) }).map(([name, value]) => `${name}: ${value}`).join('\r\n');
      socket.write(`POST /oauth/token HTTP/1.1\r\n${head}\r\n\r\n${body.slice(0, 10)}`);
      await sleep(200);
      const closing = server.app.close();
      await sleep(50);
      assert.equal(server.health.phase, 'stopping');
      socket.write(`${body.slice(10)}GET /readyz HTTP/1.1\r\nhost: tessera.test\r\n\r\n`);
      await ended;
      await closing;
      const text = Buffer.concat(received).toString('utf8');
      assert.deepEqual([...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => match[1]), ['401', '503'], text);
      assert.match(text, /"status":"stopping"/);
    } finally {
      await server.dispose();
    }
  });
});
