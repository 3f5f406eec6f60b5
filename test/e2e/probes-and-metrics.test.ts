/**
 * The probes (`/healthz`, `/readyz`) of the server and of the region-agnostic front, and the
 * Prometheus metrics on their own listener: every metric the operations section lists, requests
 * labelled by route pattern (never by a URL with ids or tokens), and the protocol counters moved
 * by real requests.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { seedFamilies } from '../../bench/tessera-seed.js';
import { DocumentServer } from '../support/document-server.js';
import { storageTargets } from '../support/database.js';
import { basicAuth } from '../support/oauth-client.js';
import { startRegions } from '../support/regions.js';
import { startTestServer, type TestServer } from '../support/server.js';

for (const target of storageTargets()) {
  describe(`probes (${target.name})`, () => {
    let server: TestServer;
    const log: string[] = [];
    before(async () => {
      server = await startTestServer(target, { TESSERA_RATE_LIMITS: 'true' }, { logger: { level: 'info', stream: { write: (line: string) => void log.push(line) } } });
    });
    after(() => server.close());

    it('answers /healthz and /readyz quietly: no log line, no rate limit, no cookie', async () => {
      const before = log.length;
      for (let i = 0; i < 30; i++) {
        const health = await fetch(`${server.url}/healthz`);
        assert.equal(health.status, 200);
        assert.deepEqual(await health.json(), { status: 'ok' });
        assert.equal(health.headers.get('set-cookie'), null);
      }
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { ready: true, status: 'ready', database: { status: 'up', schema: 'current' }, redis: { status: 'off' } });
      assert.equal(ready.headers.get('cache-control'), 'no-store');
      assert.deepEqual(log.slice(before), [], 'probes write no log line');
    });

    it('is not ready while a migration this build knows is missing', async () => {
      const [latest] = await server.db.selectFrom('kysely_migration' as never).select('name' as never).orderBy('name' as never, 'desc').limit(1).execute() as Array<{ name: string }>;
      await server.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', latest!.name as never).execute();
      try {
        const ready = await fetch(`${server.url}/readyz`);
        assert.equal(ready.status, 503);
        assert.deepEqual(((await ready.json()) as { database: unknown }).database, { status: 'up', schema: 'behind', pending: [latest!.name] });
      } finally {
        await server.db.insertInto('kysely_migration' as never).values({ name: latest!.name, timestamp: new Date().toISOString() } as never).execute();
      }
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    });
  });
}

describe('probes of the front', () => {
  it('is ready while at least one region is', async () => {
    const regions = await startRegions();
    try {
      const front = (path: string) => regions.front.inject(path);
      assert.equal((await front('/healthz')).statusCode, 200);
      const ready = await front('/readyz');
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json().regions, { us: 'ready', eu: 'ready' });
      await regions.us.close();
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the front asks the regions at most once a second
      const one = await front('/readyz');
      assert.equal(one.statusCode, 200);
      assert.match(one.json().regions.us, /^unreachable/);
      await regions.eu.close();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const none = await front('/readyz');
      assert.equal(none.statusCode, 503);
      assert.equal(none.json().status, 'unavailable');
      assert.equal((await front('/healthz')).statusCode, 200);
    } finally {
      await regions.front.close();
    }
  });
});

for (const target of storageTargets()) {
  describe(`metrics (${target.name})`, () => {
    const docs = new DocumentServer({ client_name: 'Metered', redirect_uris: ['http://127.0.0.1:9999/callback'] });
    let server: TestServer;
    let metricsUrl: string;
    before(async () => {
      await docs.start();
      server = await startTestServer(target, {
        TESSERA_METRICS_PORT: '0',
        TESSERA_RATE_LIMITS: 'true',
        TESSERA_TRUST_PROXY: '127.0.0.1',
        TESSERA_RATE_LIMIT_TOKEN: '5',
        TESSERA_CIMD_ALLOW_LOOPBACK: 'true',
        TESSERA_CIMD_CA_FILE: docs.caFile,
      });
      metricsUrl = `http://127.0.0.1:${server.app.metricsPort}/metrics`;
    });
    after(async () => {
      await server.close();
      await docs.close();
    });

    const scrape = async () => {
      const response = await fetch(metricsUrl);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return response.text();
    };
    const value = (text: string, series: string) => Number(text.split('\n').find((line) => line.startsWith(`${series} `))?.split(' ')[1] ?? NaN);

    it('counts what happens, by route pattern, on a listener of its own', async () => {
      const seeded = await seedFamilies(server.ctx, { count: 3, resource: null });
      const authorization = basicAuth(seeded.clientId, seeded.clientSecret);
      const post = (path: string, form: Record<string, string>, ip = '2001:db8::1') =>
        fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip }, body: new URLSearchParams(form) });

      // A rotation, then the old token again after the grace window: reuse detected, family revoked.
      assert.equal((await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: seeded.refreshTokens[0]! })).status, 200);
      server.advance((server.config.refreshReuseGraceSeconds + 1) * 1000);
      assert.equal((await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: seeded.refreshTokens[0]! })).status, 400);
      // A revocation by the client.
      assert.equal((await post('/oauth/revoke', { token: seeded.refreshTokens[1]! })).status, 200);
      // Rate limited per IP address.
      const ip = `2001:db8::${randomBytes(2).toString('hex')}`;
      let limited = 0;
      for (let i = 0; i < 7; i++) if ((await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x' }, ip)).status === 429) limited++;
      assert.equal(limited, 2);
      // An API read whose URL carries an id, and a token that must never become a label.
      const projectId = `p_${randomBytes(8).toString('hex')}`;
      assert.equal((await fetch(`${server.url}/api/projects/${projectId}`, { headers: { authorization: `Bearer ${seeded.accessTokens[2]!}` } })).status, 404);
      // CIMD: a good document, one that is not valid, and one that cannot be fetched.
      const authorize = (clientId: string) => fetch(`${server.url}/oauth/authorize?${new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: 'http://127.0.0.1:9999/callback' })}`, { redirect: 'manual' });
      await authorize(docs.serve('/good'));
      await authorize(docs.serve('/invalid', { redirect_uris: 'not a list' }));
      await authorize(docs.url('/missing'));
      // A path nothing serves.
      await fetch(`${server.url}/no/such/${seeded.refreshTokens[2]!}`);

      const text = await scrape();
      assert.equal(value(text, 'tessera_tokens_issued_total{grant_type="refresh_token"}'), 1);
      assert.equal(value(text, 'tessera_refresh_token_reuse_detected_total'), 1);
      assert.equal(value(text, 'tessera_token_revocations_total{reason="refresh_token_reuse"}'), 1);
      assert.equal(value(text, 'tessera_token_revocations_total{reason="client_request"}'), 1);
      assert.equal(value(text, 'tessera_rate_limited_total{endpoint="token",key="ip"}'), 2);
      assert.equal(value(text, 'tessera_cimd_fetches_total{outcome="fetched"}'), 1);
      assert.equal(value(text, 'tessera_cimd_fetches_total{outcome="invalid_document"}'), 1);
      assert.equal(value(text, 'tessera_cimd_fetches_total{outcome="fetch_failed"}'), 1);
      assert.equal(value(text, 'tessera_http_requests_total{route="/oauth/token",method="POST",status="200"}'), 1);
      assert.equal(value(text, 'tessera_http_requests_total{route="/api/projects/:id",method="GET",status="404"}'), 1);
      assert.equal(value(text, 'tessera_http_requests_total{route="unmatched",method="GET",status="404"}'), 1);
      assert.ok(value(text, 'tessera_http_request_duration_seconds_count{route="/oauth/token",method="POST"}') >= 9);
      assert.equal(value(text, 'tessera_database_up'), 1);
      for (const name of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) assert.match(text, new RegExp(`^${name} `, 'm'));
      if (target.name === 'postgres') {
        assert.match(text, /^tessera_db_pool_connections_in_use \d+$/m);
        assert.match(text, /^tessera_db_pool_waiting_requests \d+$/m);
      }
      // No series carries an id, a token or a query string.
      assert.ok(!text.includes(projectId) && !text.includes(seeded.refreshTokens[2]!) && !text.includes('client_id='), 'raw URLs in labels');
      // Served only on the metrics listener.
      assert.equal((await fetch(`${server.url}/metrics`)).status, 404);
    });
  });
}
