/**
 * The transaction runner and prepared queries, on every storage target: concurrent transactions
 * each get their own outcome, a failing one undoes only its own writes, and on SQLite the
 * transactions of one event-loop turn share a commit and the reads of one turn a read transaction.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { saveAuthorization, touchAuthorization } from '../../packages/server/src/core/oauth/authorizations.js';
import { FULL_ACCESS } from '../../packages/server/src/core/oauth/narrowing.js';
import { affectedRows, firstRow, prepareQuery } from '../../packages/server/src/store/prepared.js';
import type { Database } from '../../packages/server/src/store/schema.js';
import { groupCommit, groupedReads } from '../../packages/server/src/store/transactions.js';
import { storageTargets } from '../support/database.js';
import { createTestRuntime, type TestRuntime } from '../support/runtime.js';
import { seedClient, seedUser } from '../support/seed.js';

const insertOrganization = prepareQuery((db, p: { id: string; name: string; now: number }) =>
  db.insertInto('organizations').values({ id: p.id, name: p.name, created_at: p.now }),
);
const selectOrganization = prepareQuery((db, p: { id: string }) => db.selectFrom('organizations').select(['id', 'name']).where('id', '=', p.id));
const renameOrganization = prepareQuery((db, p: { id: string; name: string }) => db.updateTable('organizations').set({ name: p.name }).where('id', '=', p.id));

for (const target of storageTargets()) {
  describe(`transactions and prepared queries (${target.name})`, () => {
    let rt: TestRuntime;
    before(async () => {
      rt = await createTestRuntime(target);
    });
    after(() => rt.dispose());

    it('runs a prepared query with fresh values each time', async () => {
      await insertOrganization(rt.db, { id: 'org-p1', name: 'One', now: 1 });
      await insertOrganization(rt.db, { id: 'org-p2', name: 'Two', now: 2 });
      assert.deepEqual(await firstRow(selectOrganization(rt.db, { id: 'org-p2' })), { id: 'org-p2', name: 'Two' });
      assert.equal(await affectedRows(renameOrganization(rt.db, { id: 'org-p1', name: 'Uno' })), 1);
      assert.equal(await affectedRows(renameOrganization(rt.db, { id: 'missing', name: 'x' })), 0);
      assert.deepEqual(await firstRow(selectOrganization(rt.db, { id: 'org-p1' })), { id: 'org-p1', name: 'Uno' });
    });

    it('refuses a prepared query whose parameter is computed with rather than passed as a value', async () => {
      const computed = prepareQuery((db, p: { now: number }) => db.selectFrom('organizations').select('id').where('created_at', '<', p.now - 1000));
      await assert.rejects(computed(rt.db, { now: 5 }), /not used as values: now/);
    });

    it('gives concurrent transactions their own results, and a failing one undoes only its own writes', async () => {
      const outcomes = await Promise.allSettled(
        ['a', 'b', 'fails', 'c'].map((name) =>
          rt.ctx.store.transaction(async (tx) => {
            await tx.organizations.insert({ id: `org-${name}`, name, created_at: 3, require_two_factor: 0 });
            if (name === 'fails') throw new Error('refused');
            return name.toUpperCase();
          }),
        ),
      );
      assert.deepEqual(
        outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as Error).message)),
        ['A', 'B', 'refused', 'C'],
      );
      for (const name of ['a', 'b', 'c']) assert.ok(await firstRow(selectOrganization(rt.db, { id: `org-${name}` })));
      assert.equal(await firstRow(selectOrganization(rt.db, { id: 'org-fails' })), undefined);
    });

    it('answers concurrent reads each with its own result, and a failing read fails alone', async () => {
      await insertOrganization(rt.db, { id: 'org-r1', name: 'Read one', now: 5 });
      const outcomes = await Promise.allSettled(
        ['org-r1', 'missing', 'fails'].map((id) =>
          rt.ctx.store.reads(async (tx) => {
            if (id === 'fails') throw new Error('refused');
            return (await tx.organizations.find(id))?.name ?? null;
          }),
        ),
      );
      assert.deepEqual(
        outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as Error).message)),
        ['Read one', null, 'refused'],
      );
    });

    it('writes a grant\'s last use at most once a minute', async () => {
      const user = await seedUser(rt.ctx);
      const { client } = await seedClient(rt.ctx);
      const grant = await rt.ctx.store.transaction((tx) => saveAuthorization(tx, { userId: user.id, clientId: client.id, scopes: ['project:read'], narrowing: FULL_ACCESS }, 1_000));
      const lastUsed = async () => (await rt.db.selectFrom('authorizations').select('last_used_at').where('id', '=', grant.id).executeTakeFirstOrThrow()).last_used_at;
      await touchAuthorization(rt.ctx.store, grant.id, 10_000);
      assert.equal(await lastUsed(), 10_000);
      await touchAuthorization(rt.ctx.store, grant.id, 50_000);
      assert.equal(await lastUsed(), 10_000);
      await touchAuthorization(rt.ctx.store, grant.id, 70_001);
      assert.equal(await lastUsed(), 70_001);
    });
  });
}

describe('group commit on SQLite', () => {
  /** A database whose BEGIN and COMMIT statements are counted. */
  async function countingDatabase() {
    const sqlite = new SQLite(':memory:');
    const counts = { begins: 0, commits: 0 };
    const prepare = sqlite.prepare.bind(sqlite);
    sqlite.prepare = ((source: string) => {
      if (/^begin\b/i.test(source)) counts.begins++;
      if (/^commit\b/i.test(source)) counts.commits++;
      return prepare(source);
    }) as typeof sqlite.prepare;
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    await db.schema.createTable('organizations').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('name', 'text').addColumn('created_at', 'integer').execute();
    return { db, counts, transaction: groupCommit(db), reads: groupedReads(db) };
  }

  it('reads the reads of one turn in one read transaction, and a lone read outside any', async () => {
    const { db, counts, reads } = await countingDatabase();
    for (let i = 0; i < 10; i++) await insertOrganization(db, { id: `r${i}`, name: `name ${i}`, now: i });
    const names = await Promise.all(Array.from({ length: 10 }, (_, i) => reads(async (trx) => (await firstRow(selectOrganization(trx, { id: `r${i}` })))?.name)));
    assert.deepEqual(names, Array.from({ length: 10 }, (_, i) => `name ${i}`));
    assert.deepEqual(counts, { begins: 1, commits: 1 });
    assert.equal((await reads((trx) => firstRow(selectOrganization(trx, { id: 'r3' }))))?.name, 'name 3');
    assert.deepEqual(counts, { begins: 1, commits: 1 });
    await db.destroy();
  });

  it('commits the transactions of one event-loop turn together, and a later turn separately', async () => {
    const { db, counts, transaction } = await countingDatabase();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => transaction(async (trx) => (await insertOrganization(trx, { id: `g${i}`, name: 'n', now: i }), i))));
    assert.deepEqual(results, [...Array(10).keys()]);
    assert.equal(counts.commits, 1);
    await transaction((trx) => insertOrganization(trx, { id: 'later', name: 'n', now: 0 }));
    assert.equal(counts.commits, 2);
    assert.equal((await db.selectFrom('organizations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n, 11);
    await db.destroy();
  });

  it('runs the transactions of a turn one after another, each seeing the writes before it', async () => {
    const { db, transaction } = await countingDatabase();
    await insertOrganization(db, { id: 'org-counter', name: '0', now: 4 });
    const increment = () =>
      transaction(async (trx) => {
        const row = await firstRow(selectOrganization(trx, { id: 'org-counter' }));
        await renameOrganization(trx, { id: 'org-counter', name: String(Number(row!.name) + 1) });
      });
    await Promise.all(Array.from({ length: 25 }, increment));
    assert.equal((await firstRow(selectOrganization(db, { id: 'org-counter' })))?.name, '25');
    await db.destroy();
  });

  it('runs each transaction of a turn on its own when one of them fails', async () => {
    const { db, counts, transaction } = await countingDatabase();
    const runs: string[] = [];
    const outcomes = await Promise.allSettled(
      ['x', 'duplicate', 'y'].map((name) =>
        transaction(async (trx) => {
          runs.push(name);
          await insertOrganization(trx, { id: name === 'duplicate' ? 'x' : name, name, now: 0 });
        }),
      ),
    );
    assert.deepEqual(outcomes.map((outcome) => outcome.status), ['fulfilled', 'rejected', 'fulfilled']);
    // Together until the failure (then rolled back), then one by one: only the failing one's writes are missing.
    assert.deepEqual(runs, ['x', 'duplicate', 'x', 'duplicate', 'y']);
    assert.equal(counts.commits, 2);
    assert.deepEqual((await db.selectFrom('organizations').select('name').orderBy('id').execute()).map((row) => row.name), ['x', 'y']);
    await db.destroy();
  });
});
