/**
 * The rules behind surviving a lost dependency: which driver errors mean "unavailable" (and which
 * mean a real mistake), a state change logged once, Redis's reconnection backoff, the new
 * settings, which paths are answered in JSON, and a start banner that never shows a password.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Availability } from '../../packages/server/src/ops/availability.js';
import { describeDatabase } from '../../packages/server/src/cli/banner.js';
import { ConfigError, loadConfig } from '../../packages/server/src/config.js';
import { answersPrograms } from '../../packages/server/src/http/security.js';
import { reconnectDelay } from '../../packages/server/src/ops/redis.js';
import { DependencyUnavailableError, unavailabilityReason } from '../../packages/server/src/store/unavailable.js';

const withCode = (code: string) => Object.assign(new Error('driver error'), { code });

describe('which errors mean the database is unavailable', () => {
  it('recognises SQLite busy, locked, full, I/O, read-only and out-of-memory codes, extended ones too', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC', 'SQLITE_READONLY_DBMOVED', 'SQLITE_CANTOPEN', 'SQLITE_NOMEM']) {
      assert.equal(unavailabilityReason(withCode(code)), code);
    }
  });

  it('recognises PostgreSQL connection, shutdown, resource, timeout and read-only (failover) states', () => {
    for (const code of ['08006', '08001', '57P01', '57P02', '57P03', '57014', '53300', '53100', '58030', '25006']) {
      assert.equal(unavailabilityReason(withCode(code)), code);
    }
  });

  it('recognises a server that cannot be reached', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']) assert.equal(unavailabilityReason(withCode(code)), code);
    assert.equal(unavailabilityReason(new DependencyUnavailableError('database', 'statement timeout')), 'statement timeout');
  });

  it('leaves real mistakes alone: constraint violations, syntax errors, corruption, errors without a code', () => {
    for (const error of [withCode('SQLITE_CONSTRAINT_UNIQUE'), withCode('SQLITE_ERROR'), withCode('SQLITE_CORRUPT'), withCode('23505'), withCode('42601'), withCode('42P01'), new Error('no code'), undefined, null, 'text']) {
      assert.equal(unavailabilityReason(error), undefined, String((error as { code?: string } | null)?.code ?? error));
    }
  });
});

describe('availability', () => {
  it('logs going away and coming back once each, however often it is told', () => {
    const lines: Array<{ level: number; msg: string; reason?: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const availability = new Availability(log, { down: 'gone', up: 'back' });
    availability.up();
    for (let i = 0; i < 5; i++) availability.down(`ECONNREFUSED`);
    assert.equal(availability.reason, 'ECONNREFUSED');
    for (let i = 0; i < 5; i++) availability.up();
    availability.down('57P01');
    assert.deepEqual(lines.map(({ level, msg, reason }) => ({ level, msg, reason })), [
      { level: 40, msg: 'gone', reason: 'ECONNREFUSED' },
      { level: 30, msg: 'back', reason: undefined },
      { level: 40, msg: 'gone', reason: '57P01' },
    ]);
  });
});

describe('Redis reconnection', () => {
  it('backs off from 200 ms to at most 2 s', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 50, 10_000].map(reconnectDelay), [200, 400, 800, 1600, 2000, 2000, 2000, 2000]);
  });
});

describe('settings', () => {
  it('reads the database timeout, metrics port and shutdown timeout, with defaults', () => {
    const defaults = loadConfig({});
    assert.equal(defaults.databaseTimeoutMs, 1500);
    assert.equal(defaults.metricsPort, undefined);
    assert.equal(defaults.shutdownTimeoutSeconds, 10);
    const set = loadConfig({ TESSERA_DATABASE_TIMEOUT_MS: '800', TESSERA_METRICS_PORT: '9464', TESSERA_SHUTDOWN_TIMEOUT: '30' });
    assert.deepEqual([set.databaseTimeoutMs, set.metricsPort, set.shutdownTimeoutSeconds], [800, 9464, 30]);
  });

  it('refuses a metrics port that is the server port or not a port, and a timeout too short to be one', () => {
    assert.throws(() => loadConfig({ PORT: '8080', TESSERA_METRICS_PORT: '8080' }), ConfigError);
    assert.throws(() => loadConfig({ TESSERA_METRICS_PORT: '70000' }), ConfigError);
    assert.throws(() => loadConfig({ TESSERA_METRICS_PORT: 'metrics' }), ConfigError);
    assert.throws(() => loadConfig({ TESSERA_DATABASE_TIMEOUT_MS: '10' }), ConfigError);
    assert.throws(() => loadConfig({ TESSERA_SHUTDOWN_TIMEOUT: '-1' }), ConfigError);
  });
});

describe('who is answered in JSON when the service is unavailable', () => {
  it('programs: the OAuth endpoints, discovery, the API and the probes; people: every page', () => {
    for (const path of ['/oauth/token', '/oauth/introspect?x=1', '/oauth/revoke', '/oauth/userinfo', '/oauth/register', '/.well-known/jwks.json', '/api/projects/1', '/readyz']) assert.equal(answersPrograms(path), true, path);
    for (const path of ['/oauth/authorize', '/login', '/settings/connected-apps', '/', '/verify-email?token=x']) assert.equal(answersPrograms(path), false, path);
  });
});

describe('the start banner', () => {
  it('names the database without its password', () => {
    assert.equal(describeDatabase('postgres://tessera:s3cret@db.example.com:5432/tessera?sslmode=require'), 'PostgreSQL db.example.com:5432/tessera as tessera');
    assert.match(describeDatabase('sqlite:./data/tessera.sqlite'), /^SQLite \/.*\/data\/tessera\.sqlite$/);
  });
});
