/** Opens the database, runs migrations, wires the context and starts listening. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createAccountLimits } from './platform/accounts/account-limits.js';
import { silentLogger } from './ops/availability.js';
import type { Config } from './config.js';
import type { Context } from './core/context.js';
import type { Health, Readiness } from './ops/health.js';
import { buildApp, type AppOptions } from './http/app.js';
import { startMetricsListener } from './http/metrics.js';
import { createLogger } from './http/security.js';
import { Metrics } from './ops/metrics.js';
import { createClientResolver } from './core/clients/resolver.js';
import { shareClientChanges } from './core/clients/shared-changes.js';
import { createCimdResolver } from './core/clients/cimd/resolver.js';
import { createIdTokenIssuer } from './core/oidc/id-tokens.js';
import { purgeExpired } from './core/purge.js';
import { ensureSigningKeys, KeyRing } from './core/oidc/signing-keys.js';
import { connectRedis } from './ops/redis.js';
import { checkDatabase, migrateToLatest, openDatabase, type Db, type OpenOptions } from './store/database.js';
import { unavailabilityReason } from './store/unavailable.js';

/** How long the readiness probe waits for the database's answer. */
const READINESS_DEADLINE_MS = 1000;

export interface Runtime {
  ctx: Context;
  db: Db;
  redis: Redis | undefined;
  health: Health;
  /** Applies pending migrations and creates the first signing keys; the runtime serves from then on. */
  prepare(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Everything the server and the CLI share: the database, Redis if configured, the context. Nothing
 * here waits on the database or Redis (they connect on first use), so a server can listen, and
 * say it is not ready, while they are away; `prepare` then migrates.
 */
export function openRuntime(config: Config, options: OpenOptions = {}): Runtime {
  const log = options.log ?? silentLogger;
  const db = openDatabase(config.databaseUrl, { ...options, log, timeoutMs: options.timeoutMs ?? config.databaseTimeoutMs });
  const redisConnection = config.redisUrl ? connectRedis(config.redisUrl, log) : undefined;
  const redis = redisConnection?.redis;
  const metrics = new Metrics();
  const now = () => Date.now();
  const signingKeys = new KeyRing(db.kysely, config, () => ctx.now());
  const cimd = createCimdResolver({ db: db.kysely, config, redis, metrics, now: () => ctx.now() });
  const localClients = createClientResolver(db.kysely, cimd, () => ctx.now());
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
    metrics,
    now,
  };
  metrics.watchDependencies({
    databaseUp: () => !db.availability.isDown,
    ...(db.poolUsage ? { pool: db.poolUsage } : {}),
    ...(redisConnection ? { redisUp: () => redisConnection.availability.state === 'up' } : {}),
  });

  const health: Health = {
    phase: 'starting',
    async readiness(): Promise<Readiness> {
      const redisState = { status: redisConnection ? (redisConnection.availability.state === 'up' ? 'up' : 'down') : 'off' };
      if (health.phase === 'stopping') return { ready: false, status: 'stopping', redis: redisState };
      const database = await checkDatabase(db, READINESS_DEADLINE_MS);
      const ready = health.phase === 'serving' && database.status === 'up' && database.schema === 'current';
      // Redis is optional: reported, never a reason to take this instance out of service.
      return { ready, status: ready ? 'ready' : health.phase === 'starting' ? 'starting' : 'unavailable', database, redis: redisState };
    },
  };

  let closing: Promise<void> | undefined;
  return {
    ctx,
    db,
    redis,
    health,
    async prepare() {
      await applyMigrations(config, db, options);
      await ensureSigningKeys(db.kysely, config, now());
      if (health.phase === 'starting') health.phase = 'serving';
    },
    close() {
      closing ??= (async () => {
        health.phase = 'stopping';
        shared?.close();
        redisConnection?.close();
        await db.close();
      })();
      return closing;
    },
  };
}

/** A runtime whose database is migrated: what the CLI and tests use. */
export async function createRuntime(config: Config, options: OpenOptions = {}): Promise<Runtime> {
  const runtime = openRuntime(config, options);
  try {
    await runtime.prepare();
  } catch (error) {
    await runtime.close();
    throw error;
  }
  return runtime;
}

/**
 * Migrations may run longer than a request may wait on a statement, so on PostgreSQL they run on
 * a connection of their own without the statement timeout (the wait for the connection stays bounded).
 */
async function applyMigrations(config: Config, db: Db, options: OpenOptions): Promise<void> {
  if (db.dialect === 'sqlite') {
    await migrateToLatest(db);
    return;
  }
  const migrating = openDatabase(config.databaseUrl, { ...options, log: silentLogger, poolSize: 1, timeoutMs: config.databaseTimeoutMs, statementsUnbounded: true });
  try {
    await migrateToLatest(migrating);
  } finally {
    await migrating.close();
  }
}

export async function createServer(runtime: Runtime, options: Omit<AppOptions, 'redis' | 'health'> = {}): Promise<FastifyInstance> {
  const app = await buildApp(runtime.ctx, { ...options, health: runtime.health, ...(runtime.redis ? { redis: runtime.redis } : {}) });
  const stopPurging = schedulePurges(app, runtime.ctx);
  const { metricsPort } = runtime.ctx.config;
  const metricsListener = metricsPort === undefined ? undefined : await startMetricsListener(runtime.ctx.metrics, runtime.ctx.config.host, metricsPort);
  // Readiness turns to 503 as soon as a shutdown begins, before the listener stops.
  app.addHook('preClose', async () => {
    runtime.health.phase = 'stopping';
  });
  app.addHook('onClose', async () => {
    await stopPurging();
    await metricsListener?.close();
    await runtime.close();
  });
  app.decorate('metricsPort', metricsListener?.port);
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The port the Prometheus listener is bound to, when TESSERA_METRICS_PORT is set. */
    metricsPort: number | undefined;
  }
}

/** Purges what has expired (src/oauth/purge.ts) every `purgeIntervalSeconds`; returns the way to stop, which waits for a purge under way. */
function schedulePurges(app: FastifyInstance, ctx: Context): () => Promise<void> {
  const interval = ctx.config.purgeIntervalSeconds;
  if (interval === 0) return async () => undefined;
  const stopping = new AbortController();
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= purgeExpired(ctx, undefined, stopping.signal)
      .then((counts) => app.log.info({ purged: counts }, 'purged expired rows'))
      .catch((error: Error) => app.log.warn({ err: { message: error.message } }, 'purge failed; the next one retries'))
      .finally(() => {
        running = undefined;
      });
  }, interval * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    stopping.abort();
    await running;
  };
}

/** A server listening for requests, and getting its database ready behind them. */
export interface RunningServer {
  app: FastifyInstance;
  runtime: Runtime;
  /** Resolves once the database is migrated (true), or when a shutdown came first (false). */
  ready: Promise<boolean>;
}

/**
 * Listens at once, then gets the database ready, retrying with a growing pause while it cannot be
 * reached: meanwhile `/healthz` answers 200, `/readyz` 503 with the reason, and every other request
 * 503. An orchestrator thus sees a live instance waiting for its database, not one that crashes
 * in a loop. Any other failure (a migration that fails) ends the start.
 */
export async function startServer(config: Config): Promise<RunningServer> {
  const log = createLogger(config.logLevel);
  const runtime = openRuntime(config, { log });
  const app = await createServer(runtime, { loggerInstance: log });
  const stopped = new AbortController();
  app.addHook('preClose', async () => stopped.abort());
  // Fastify would log "Server listening at http://127.0.0.1:8080": an address, not the URL clients must use.
  await app.listen({ port: config.port, host: config.host, listenTextResolver: (address) => `listening on ${address}; clients use the issuer ${config.issuer}` });
  return { app, runtime, ready: prepareWhenReachable(runtime, log, stopped.signal) };
}

const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 10_000;

async function prepareWhenReachable(runtime: Runtime, log: Logger, stopped: AbortSignal): Promise<boolean> {
  for (let attempt = 1; !stopped.aborted; attempt++) {
    try {
      await runtime.prepare();
      return true;
    } catch (error) {
      const reason = unavailabilityReason(error);
      if (reason === undefined) throw error;
      const retryInMs = Math.min(FIRST_RETRY_MS * 2 ** (attempt - 1), LONGEST_RETRY_MS);
      log.warn({ reason, attempt, retryInMs }, 'the database cannot be reached yet; requests are answered 503 until it can');
      await sleep(retryInMs, undefined, { signal: stopped }).catch(() => undefined);
    }
  }
  return false;
}
