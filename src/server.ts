/** Opens the database, runs migrations, wires the context and starts listening. */
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { createAccountLimits } from './accounts/account-limits.js';
import type { Config } from './config.js';
import type { Context } from './context.js';
import { buildApp, type AppOptions } from './http/app.js';
import { createClientResolver } from './oauth/clients/resolver.js';
import { shareClientChanges } from './oauth/clients/shared-changes.js';
import { createCimdResolver } from './oauth/cimd/resolver.js';
import { createIdTokenIssuer } from './oidc/id-tokens.js';
import { purgeExpired } from './oauth/purge.js';
import { ensureSigningKeys, KeyRing } from './oidc/signing-keys.js';
import { migrateToLatest, openDatabase, type Db, type OpenOptions } from './store/database.js';

export interface Runtime {
  ctx: Context;
  db: Db;
  redis: Redis | undefined;
  close(): Promise<void>;
}

/** Everything the server and the CLI share: the database (migrated), Redis if configured, the context. */
export async function createRuntime(config: Config, open: OpenOptions = {}): Promise<Runtime> {
  const db = openDatabase(config.databaseUrl, open);
  await migrateToLatest(db);
  const now = () => Date.now();
  await ensureSigningKeys(db.kysely, config, now());
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: false }) : undefined;
  const signingKeys = new KeyRing(db.kysely, config, () => ctx.now());
  const localClients = createClientResolver(db.kysely, createCimdResolver({ db: db.kysely, config, redis, now: () => ctx.now() }), () => ctx.now());
  const shared = redis ? shareClientChanges(localClients, redis, `${config.redisKeyPrefix}client-changed`) : undefined;
  const clients = shared?.clients ?? localClients;
  const ctx: Context = {
    config,
    db: db.kysely,
    dialect: db.dialect,
    transaction: db.transaction,
    reads: db.reads,
    clients,
    signingKeys,
    idTokens: createIdTokenIssuer(config, signingKeys, () => ctx.now()),
    accountLimits: createAccountLimits(config, redis),
    now,
  };
  let closing: Promise<void> | undefined;
  return {
    ctx,
    db,
    redis,
    close() {
      closing ??= (async () => {
        shared?.close();
        redis?.disconnect();
        await db.close();
      })();
      return closing;
    },
  };
}

export async function createServer(runtime: Runtime, options: Omit<AppOptions, 'redis'> = {}): Promise<FastifyInstance> {
  const app = await buildApp(runtime.ctx, { ...options, ...(runtime.redis ? { redis: runtime.redis } : {}) });
  const stopPurging = schedulePurges(app, runtime.ctx);
  app.addHook('onClose', async () => {
    stopPurging();
    await runtime.close();
  });
  return app;
}

/** Purges what has expired (src/oauth/purge.ts) every `purgeIntervalSeconds`; returns the way to stop. */
function schedulePurges(app: FastifyInstance, ctx: Context): () => void {
  const interval = ctx.config.purgeIntervalSeconds;
  if (interval === 0) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    purgeExpired(ctx)
      .then((counts) => app.log.info({ purged: counts }, 'purged expired rows'))
      .catch((error: Error) => app.log.warn({ err: { message: error.message } }, 'purge failed; the next one retries'))
      .finally(() => {
        running = false;
      });
  }, interval * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

export async function startServer(config: Config): Promise<FastifyInstance> {
  const runtime = await createRuntime(config);
  const app = await createServer(runtime, {
    // buildApp keeps credentials, cookies and query strings out of the log.
    logger: { level: config.logLevel },
  });
  await app.listen({ port: config.port, host: config.host });
  return app;
}
