/**
 * The composition root: the store, Redis if configured, and the context every layer receives,
 * shared by the server, the CLI and tests. Nothing here waits on the database or Redis (they
 * connect on first use), so a server can listen, and say it is not ready, while they are away;
 * `prepare` then migrates.
 */
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { createCimdResolver } from './core/clients/cimd/resolver.js';
import { createClientResolver } from './core/clients/resolver.js';
import { createIdTokenIssuer } from './core/oidc/id-tokens.js';
import { ensureSigningKeys, KeyRing } from './core/oidc/signing-keys.js';
import { createResourceDirectory } from './core/resources/registry.js';
import { silentLogger } from './ops/availability.js';
import { openChangeChannel, type ChangeChannel } from './ops/change-channel.js';
import type { Health, Readiness } from './ops/health.js';
import { Metrics } from './ops/metrics.js';
import { connectRedis } from './ops/redis.js';
import { createAccountLimits } from './platform/accounts/account-limits.js';
import type { PlatformContext } from './platform/context.js';
import { platformScopes } from './platform/scopes.js';
import { openStore, type OpenedStore, type OpenOptions } from './store/index.js';

/** How long the readiness probe waits for the database's answer. */
const READINESS_DEADLINE_MS = 1000;

export interface Runtime {
  ctx: PlatformContext;
  store: OpenedStore;
  redis: Redis | undefined;
  health: Health;
  /** Applies pending migrations and creates the first signing keys; the runtime serves from then on. */
  prepare(): Promise<void>;
  close(): Promise<void>;
}

export function openRuntime(config: Config, options: OpenOptions = {}): Runtime {
  const log = options.log ?? silentLogger;
  const store = openStore(config.databaseUrl, { ...options, log, timeoutMs: options.timeoutMs ?? config.databaseTimeoutMs });
  const redisConnection = config.redisUrl ? connectRedis(config.redisUrl, log) : undefined;
  const redis = redisConnection?.redis;
  const metrics = new Metrics();
  const clock = () => ctx.now();
  const signingKeys = new KeyRing(store, config, clock);
  const cimd = createCimdResolver({ store, config, scopes: platformScopes, redis, metrics, now: clock });
  const localClients = createClientResolver(store, cimd, clock);
  const localResources = createResourceDirectory(config, clock);
  // With Redis, a change to a registered client or resource reaches every instance's copy of it at once.
  const clientChanges = redis ? openChangeChannel(redis, `${config.redisKeyPrefix}client-changed`, (clientId) => localClients.forget(clientId)) : undefined;
  const resourceChanges = redis ? openChangeChannel(redis, `${config.redisKeyPrefix}resource-changed`, (uri) => localResources.forget(uri)) : undefined;
  const clients = announcingChanges(localClients, clientChanges);
  const resources = announcingChanges(localResources, resourceChanges);
  const ctx: PlatformContext = {
    config,
    store,
    clients,
    resources,
    scopes: platformScopes,
    signingKeys,
    idTokens: createIdTokenIssuer(config, signingKeys, clock),
    accountLimits: createAccountLimits(config, redis),
    metrics,
    now: () => Date.now(),
  };
  metrics.watchDependencies({
    databaseUp: () => !store.availability.isDown,
    ...(store.poolUsage ? { pool: store.poolUsage } : {}),
    ...(redisConnection ? { redisUp: () => redisConnection.availability.state === 'up' } : {}),
  });

  const health: Health = {
    phase: 'starting',
    async readiness(): Promise<Readiness> {
      const redisState = { status: redisConnection ? (redisConnection.availability.state === 'up' ? 'up' : 'down') : 'off' };
      if (health.phase === 'stopping') return { ready: false, status: 'stopping', redis: redisState };
      const database = await store.check(READINESS_DEADLINE_MS);
      const ready = health.phase === 'serving' && database.status === 'up' && database.schema === 'current';
      // Redis is optional: reported, never a reason to take this instance out of service.
      return { ready, status: ready ? 'ready' : health.phase === 'starting' ? 'starting' : 'unavailable', database, redis: redisState };
    },
  };

  let closing: Promise<void> | undefined;
  return {
    ctx,
    store,
    redis,
    health,
    async prepare() {
      await store.migrate();
      await ensureSigningKeys(store, config, ctx.now());
      if (health.phase === 'starting') health.phase = 'serving';
    },
    close() {
      closing ??= (async () => {
        health.phase = 'stopping';
        clientChanges?.close();
        resourceChanges?.close();
        redisConnection?.close();
        await store.close();
      })();
      return closing;
    },
  };
}

/** A directory whose `forget` also tells the other instances, when there is a channel to tell them on. */
function announcingChanges<Directory extends { forget(id: string): void }>(local: Directory, channel: ChangeChannel | undefined): Directory {
  if (!channel) return local;
  return {
    ...local,
    forget(id: string) {
      local.forget(id);
      channel.announce(id);
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
