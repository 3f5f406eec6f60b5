/**
 * SQLite that cannot take a write: another process holds its write lock past the busy timeout
 * (SQLITE_BUSY), or the disk is full (SQLITE_FULL, on a real, small filesystem). Requests are
 * answered 503 `temporarily_unavailable` with Retry-After, never a refusal or a 500; nothing is
 * half-written; the same refresh token works once the database can write again; and the
 * transactions of one event-loop turn fail together instead of each waiting out the lock in turn.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { seedFamilies } from '../../bench/tessera-seed.js';
import { findRefreshToken } from '../../packages/server/src/core/oauth/tokens.js';
import { DependencyUnavailableError } from '../../packages/server/src/store/unavailable.js';
import { sqliteTarget, type StorageTarget } from '../support/database.js';
import { assertNothingHalfWritten } from '../support/invariants.js';
import { basicAuth } from '../support/oauth-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const LOCK_TIMEOUT_MS = 400;

async function refresh(server: TestServer, seeded: { clientId: string; clientSecret: string }, token: string) {
  const response = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(seeded.clientId, seeded.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Record<string, unknown> };
}

function assertUnavailable(answer: Awaited<ReturnType<typeof refresh>>): void {
  assert.equal(answer.status, 503, JSON.stringify(answer.body));
  assert.equal(answer.body.error, 'temporarily_unavailable');
  assert.ok(Number(answer.retryAfter) >= 1);
}

describe('SQLite locked by another process', () => {
  let server: TestServer;
  let seeded: Awaited<ReturnType<typeof seedFamilies>>;
  before(async () => {
    server = await startTestServer(sqliteTarget, { TESSERA_DATABASE_TIMEOUT_MS: String(LOCK_TIMEOUT_MS) });
    seeded = await seedFamilies(server.ctx, { count: 3, resource: null });
  });
  after(() => server.close());

  it('answers 503 while another connection holds the write lock, then rotates the same token', async () => {
    const locker = new SQLite(server.config.databaseUrl.slice('sqlite:'.length));
    try {
      locker.prepare('BEGIN IMMEDIATE').run();
      const started = Date.now();
      assertUnavailable(await refresh(server, seeded, seeded.refreshTokens[0]!));
      assert.ok(Date.now() - started < LOCK_TIMEOUT_MS + 1500, `answered after ${Date.now() - started} ms`);
      assert.match(server.store.availability.reason ?? '', /^SQLITE_BUSY/);
      // Reads go on beside the lock (WAL).
      const introspection = await fetch(`${server.url}/oauth/introspect`, {
        method: 'POST',
        headers: { authorization: basicAuth(seeded.clientId, seeded.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: seeded.accessTokens[0]! }),
      });
      assert.equal(((await introspection.json()) as { active: boolean }).active, true);
    } finally {
      locker.prepare('ROLLBACK').run();
      locker.close();
    }
    assert.equal((await findRefreshToken(server.ctx.store, seeded.refreshTokens[0]))?.rotatedAt, null, 'no rotation was written');
    await assertNothingHalfWritten(server.db);
    const after = await refresh(server, seeded, seeded.refreshTokens[0]!);
    assert.equal(after.status, 200, JSON.stringify(after.body));
  });

  it('fails the transactions of one turn together, after one wait for the lock', async () => {
    const locker = new SQLite(server.config.databaseUrl.slice('sqlite:'.length));
    const started = Date.now();
    try {
      locker.prepare('BEGIN IMMEDIATE').run();
      const write = () => server.ctx.store.transaction((tx) => tx.clients.update(seeded.clientId, { updated_at: Date.now() }));
      const outcomes = await Promise.allSettled([write(), write(), write(), write(), write()]);
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        assert.ok((outcome as PromiseRejectedResult).reason instanceof DependencyUnavailableError);
      }
    } finally {
      locker.prepare('ROLLBACK').run();
      locker.close();
    }
    const took = Date.now() - started;
    assert.ok(took < 3 * LOCK_TIMEOUT_MS, `five transactions failed after ${took} ms (one by one they would take ${5 * LOCK_TIMEOUT_MS} ms)`);
  });
});

/** A tmpfs of its own, for a disk that really fills up; undefined when this process may not mount one. */
function mountSmallFilesystem(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

const mounted = process.getuid?.() === 0 ? mountSmallFilesystem() : undefined;
if (!mounted) process.stderr.write('note: cannot mount a small tmpfs (needs root with CAP_SYS_ADMIN); the full-disk test is skipped\n');

describe('SQLite on a full disk', { skip: mounted ? false : 'cannot mount a small tmpfs here' }, () => {
  const filler = join(mounted ?? '', 'filler');
  const target: StorageTarget = { name: 'sqlite', create: async () => ({ url: `sqlite:${join(mounted!, 'tessera.sqlite')}`, drop: async () => undefined }) };
  let server: TestServer;
  after(async () => {
    await server?.close();
    execFileSync('umount', [mounted!]);
    rmSync(mounted!, { recursive: true, force: true });
  });

  it('answers 503 when the disk is full, writes nothing halfway, and works again once there is room', async (t) => {
    server = await startTestServer(target);
    const seeded = await seedFamilies(server.ctx, { count: 400, resource: null });
    // Fill every byte left.
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    for (let size = 4096; size >= 1; size = Math.floor(size / 2)) {
      try {
        for (;;) writeSync(fd, chunk, 0, size);
      } catch {
        // the next, smaller size
      }
    }
    closeSync(fd);

    // Refresh until a commit finds no room; every answer before is a 200.
    let failedToken: string | undefined;
    let rotations = 0;
    for (const token of seeded.refreshTokens) {
      const answer = await refresh(server, seeded, token);
      if (answer.status === 200) {
        rotations++;
        continue;
      }
      assertUnavailable(answer);
      assert.match(server.store.availability.reason ?? '', /^SQLITE_(FULL|IOERR)/);
      failedToken = token;
      break;
    }
    assert.ok(failedToken, `${rotations} rotations all fitted on the full disk`);
    await assertNothingHalfWritten(server.db);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200, 'reads still work');

    rmSync(filler);
    const again = await refresh(server, seeded, failedToken);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(server.db);
    assert.deepEqual(integrity.rows, [{ integrity_check: 'ok' }]);
    t.diagnostic(`${rotations} rotations fitted after the disk was filled; the next was answered 503 and rotated once room was made`);
  });
});
