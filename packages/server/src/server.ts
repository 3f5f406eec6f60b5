/** The HTTP server over a runtime (runtime.ts): the app, the metrics listener, purges, and the start that waits for the database. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { buildApp, type AppOptions } from './http/app.js';
import { startMetricsListener } from './http/metrics.js';
import { createLogger } from './http/security.js';
import type { PlatformContext } from './platform/context.js';
import { openRuntime, type Runtime } from './runtime.js';
import { unavailabilityReason } from './store/unavailable.js';

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

/** Purges what has expired (store/repositories/purge.ts) every `purgeIntervalSeconds`; returns the way to stop, which waits for a purge under way. */
function schedulePurges(app: FastifyInstance, ctx: PlatformContext): () => Promise<void> {
  const interval = ctx.config.purgeIntervalSeconds;
  if (interval === 0) return async () => undefined;
  const stopping = new AbortController();
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= ctx.store.purgeExpired(ctx.now(), { stop: stopping.signal })
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
