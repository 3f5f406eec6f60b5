/** Opens the database, runs migrations, wires the context and starts listening. */
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Context } from './context.js';
import { buildApp, type AppOptions } from './http/app.js';
import { createClientResolver } from './oauth/clients/resolver.js';
import { createCimdResolver } from './oauth/cimd/resolver.js';
import { createIdTokenIssuer } from './oidc/id-tokens.js';
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
  const ctx: Context = {
    config,
    db: db.kysely,
    dialect: db.dialect,
    transaction: db.transaction,
    clients: createClientResolver(db.kysely, createCimdResolver({ db: db.kysely, config, redis, now: () => ctx.now() }), () => ctx.now()),
    signingKeys,
    idTokens: createIdTokenIssuer(config, signingKeys, () => ctx.now()),
    now,
  };
  let closing: Promise<void> | undefined;
  return {
    ctx,
    db,
    redis,
    close() {
      closing ??= (async () => {
        redis?.disconnect();
        await db.close();
      })();
      return closing;
    },
  };
}

export async function createServer(runtime: Runtime, options: Omit<AppOptions, 'redis'> = {}): Promise<FastifyInstance> {
  const app = await buildApp(runtime.ctx, { ...options, ...(runtime.redis ? { redis: runtime.redis } : {}) });
  app.addHook('onClose', () => runtime.close());
  return app;
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
