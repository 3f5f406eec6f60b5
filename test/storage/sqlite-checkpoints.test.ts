/**
 * On a SQLite file, a worker thread copies the WAL back into the database file, so the writer's
 * commits do not have to; closing the database stops it.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Db } from '../../packages/server/src/store/database.js';
import { sqliteTarget } from '../support/database.js';

describe('background checkpoints on SQLite', () => {
  let database: Awaited<ReturnType<typeof sqliteTarget.create>>;
  let db: Db;
  let file: string;
  before(async () => {
    database = await sqliteTarget.create();
    file = database.url.slice('sqlite:'.length);
    db = openDatabase(database.url);
  });
  after(async () => {
    await db.close();
    await database.drop();
  });

  it('copies committed pages into the database file without the writer checkpointing', async () => {
    await sql`create table filler (body text)`.execute(db.kysely);
    const before = statSync(file).size;
    // About 2 MB: far below the writer's own autocheckpoint threshold (10000 pages, about 40 MB).
    const body = 'x'.repeat(1000);
    await db.transaction(async (trx) => {
      for (let i = 0; i < 2000; i++) await sql`insert into filler (body) values (${body})`.execute(trx);
    });
    const deadline = Date.now() + 5_000;
    while (statSync(file).size < before + 1_000_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(statSync(file).size >= before + 1_000_000, `the database file grew from ${before} to only ${statSync(file).size} bytes`);
  });
});
