/** A running server purges expired rows on its own every TESSERA_PURGE_INTERVAL seconds. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSession } from '../../packages/server/src/platform/accounts/sessions.js';
import { hashToken } from '../../packages/server/src/core/crypto/token-formats.js';
import { storageTargets } from '../support/database.js';
import { seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';

for (const target of storageTargets()) {
  describe(`scheduled purge (${target.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target, { TESSERA_PURGE_INTERVAL: '1' });
    });
    after(() => server.close());

    it('deletes an expired session within a few seconds, and keeps a live one', async () => {
      const user = await seedUser(server.ctx);
      const now = server.ctx.now();
      const expired = await createSession(server.ctx.store, user.id, ['pwd'], now - 7200_000, 3600);
      const live = await createSession(server.ctx.store, user.id, ['pwd'], now, 3600);
      const present = async (token: string) => (await server.db.selectFrom('sessions').select('id_hash').where('id_hash', '=', hashToken(token)).executeTakeFirst()) !== undefined;
      const deadline = Date.now() + 10_000;
      while ((await present(expired)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(await present(expired), false);
      assert.equal(await present(live), true);
    });
  });
}
