/**
 * Two instances over one database that announce changes to each other through Redis (under a key
 * prefix of the test's own), and a connection that watches the announcement channels: for the
 * tests that a change made on one instance reaches the other's one-second copy at once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { loadConfig } from '../../packages/server/src/config.js';
import { RECENT_CLIENT_MS } from '../../packages/server/src/core/clients/resolver.js';
import { createRuntime, type Runtime } from '../../packages/server/src/runtime.js';
import { seedClient } from './seed.js';

export interface TwoInstances {
  here: Runtime;
  there: Runtime;
  /** Resolves once both instances subscribe to `<prefix><name>` (so they listen before anything changes). */
  bothListening(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function twoInstances(databaseUrl: string, redisUrl: string, observerOptions: RedisOptions = {}): Promise<TwoInstances> {
  const prefix = `test-${randomBytes(4).toString('hex')}:`;
  const config = loadConfig({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, TESSERA_REDIS_PREFIX: prefix, TESSERA_RATE_LIMITS: 'false' });
  const [here, there] = [await createRuntime(config), await createRuntime(config)];
  const observer = new Redis(redisUrl, observerOptions);
  // While a test stops Redis, the observer's errors are expected; its retries go on.
  observer.on('error', () => undefined);
  return {
    here,
    there,
    async bothListening(name) {
      const channel = `${prefix}${name}`;
      const deadline = Date.now() + 10_000;
      while (Number(((await observer.pubsub('NUMSUB', channel).catch(() => [channel, 0])) as [string, number])[1]) < 2) {
        assert.ok(Date.now() < deadline, 'both instances subscribe');
        await sleep(20);
      }
    },
    async close() {
      observer.disconnect();
      await here.close();
      await there.close();
    },
  };
}

/** Reads again every 5 ms until `done` holds or `withinMs` have passed since `since`; the last value read. */
export async function readUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, since: number, withinMs: number): Promise<T> {
  let value = await read();
  while (!done(value) && Date.now() - since < withinMs) {
    await sleep(5);
    value = await read();
  }
  return value;
}

/** Renames a client on `here` (and forgets it there, as every change to a client does) and asserts `there` reads the new name well within its second. */
export async function assertClientChangeReaches(here: Runtime, there: Runtime, message: string): Promise<void> {
  const { client } = await seedClient(here.ctx, { name: 'Before' });
  assert.equal((await there.ctx.clients.resolveRecent(client.id))?.name, 'Before');
  const changedAt = Date.now();
  await here.store.kysely.updateTable('clients').set({ name: 'After' }).where('id', '=', client.id).execute();
  here.ctx.clients.forget(client.id);
  const seen = await readUntil(async () => (await there.ctx.clients.resolveRecent(client.id))?.name, (name) => name === 'After', changedAt, RECENT_CLIENT_MS / 2);
  assert.equal(seen, 'After', message);
}
