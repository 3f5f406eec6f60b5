/**
 * Client authentication reads a registered client from memory for up to a second: a change made
 * elsewhere (another instance, the CLI) is seen within that second, a change made through this
 * instance at once (and, with Redis, through any instance), and the authorization endpoint always
 * reads the row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RECENT_CLIENT_MS } from '../../packages/server/src/core/clients/resolver.js';
import { assertClientChangeReaches, twoInstances } from '../support/instances.js';
import { sqliteTarget, storageTargets } from '../support/database.js';
import { createTestRuntime, type TestRuntime } from '../support/runtime.js';
import { seedClient } from '../support/seed.js';

for (const target of storageTargets()) {
  describe(`recently read clients (${target.name})`, () => {
    let rt: TestRuntime;
    before(async () => {
      rt = await createTestRuntime(target);
    });
    after(() => rt.dispose());

    const renameElsewhere = (clientId: string, name: string) => rt.db.updateTable('clients').set({ name }).where('id', '=', clientId).execute();

    it('keeps a client read for authentication at most a second, and always reads it afresh for resolve', async () => {
      const { client } = await seedClient(rt.ctx, { name: 'Before' });
      assert.equal((await rt.ctx.clients.resolveRecent(client.id))?.name, 'Before');
      await renameElsewhere(client.id, 'After');

      assert.equal((await rt.ctx.clients.resolveRecent(client.id))?.name, 'Before');
      assert.equal((await rt.ctx.clients.resolve(client.id))?.name, 'After');
      rt.advance(RECENT_CLIENT_MS);
      assert.equal((await rt.ctx.clients.resolveRecent(client.id))?.name, 'After');
    });

    it('reads a client afresh once this instance forgets it', async () => {
      const { client } = await seedClient(rt.ctx, { name: 'Kept' });
      await rt.ctx.clients.resolveRecent(client.id);
      await renameElsewhere(client.id, 'Changed');
      rt.ctx.clients.forget(client.id);
      assert.equal((await rt.ctx.clients.resolveRecent(client.id))?.name, 'Changed');
    });

    it('does not keep a row read before a change that lands while the read is under way', async () => {
      const { client } = await seedClient(rt.ctx, { name: 'Old' });
      const reading = rt.ctx.clients.resolveRecent(client.id);
      rt.ctx.clients.forget(client.id);
      await reading;
      await renameElsewhere(client.id, 'New');
      assert.equal((await rt.ctx.clients.resolveRecent(client.id))?.name, 'New');
    });

    it('does not keep an unknown id, so a client created elsewhere works at once', async () => {
      assert.equal(await rt.ctx.clients.resolveRecent('pca_not_yet'), undefined);
      await rt.db
        .insertInto('clients')
        .values({ id: 'pca_not_yet', kind: 'registered', name: 'Late', redirect_uris: '[]', is_public: 1, verified: 0, created_at: 1, updated_at: 1 })
        .execute();
      assert.equal((await rt.ctx.clients.resolveRecent('pca_not_yet'))?.name, 'Late');
    });
  });
}

const redisUrl = process.env.TEST_REDIS_URL;

describe('client changes announced through Redis', { skip: redisUrl ? false : 'TEST_REDIS_URL is not set' }, () => {
  it('makes another instance drop its copy of a changed client at once', async () => {
    const database = await sqliteTarget.create();
    const { here, there, bothListening, close } = await twoInstances(database.url, redisUrl!);
    try {
      await bothListening('client-changed');
      await assertClientChangeReaches(here, there, 'the other instance read the client again well within the second');
    } finally {
      await close();
      await database.drop();
    }
  });
});
