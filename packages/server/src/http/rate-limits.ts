/**
 * Rate limits, from configuration. Every limited endpoint counts requests per IP address
 * (@fastify/rate-limit, before the body is read); the endpoints whose requests name a client also
 * count per client id (a preHandler, once the body is parsed), so one client id spread over many
 * addresses is held back as well. Both keep their counts in src/counters.ts: in Redis when it is
 * configured, so every instance shares them, and in memory otherwise or while Redis is away. Both
 * answer `429` with `Retry-After`, and each refusal is counted in `tessera_rate_limited_total`.
 */
import { createHash } from 'node:crypto';
import type { FastifyContextConfig, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Redis } from 'ioredis';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import { CLIENT_RATE_LIMITED_ENDPOINTS, type ClientRateLimitedEndpoint, type RateLimitedEndpoint } from '../config.js';
import type { Context } from '../core/context.js';
import { requestCounter } from '../ops/counters.js';
import { basicCredentialParts, formDecode } from '../core/oauth/client-auth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by `rateLimited` on endpoints whose requests are also limited per client id. */
    clientRateLimit?: ClientRateLimitedEndpoint;
  }
}

const WINDOW_SECONDS = 60;

function isClientRateLimited(endpoint: RateLimitedEndpoint): endpoint is ClientRateLimitedEndpoint {
  return (CLIENT_RATE_LIMITED_ENDPOINTS as readonly string[]).includes(endpoint);
}

/** Route `config`: the configured requests per minute per IP, and per client where the request names one. */
export function rateLimited(ctx: Context, endpoint: RateLimitedEndpoint): FastifyContextConfig {
  if (!ctx.config.rateLimits.enabled) return { rateLimit: false };
  return {
    rateLimit: {
      max: ctx.config.rateLimits[endpoint],
      timeWindow: WINDOW_SECONDS * 1000,
      keyGenerator: (request: FastifyRequest) => `${endpoint}:${request.ip}`,
      onExceeded: () => ctx.metrics.rateLimited(endpoint, 'ip'),
    },
    ...(isClientRateLimited(endpoint) ? { clientRateLimit: endpoint } : {}),
  };
}

type CountResult = { current: number; ttl: number };
interface CounterStore {
  incr(key: string, callback: (error: Error | null, result?: CountResult) => void): void;
  child(route: { max: number; timeWindow: number; routeInfo: { method: string; url: string } }): CounterStore;
}

/**
 * The per-IP counts as a @fastify/rate-limit store over src/counters.ts, one counter per limited
 * route, so they share Redis and fall back to memory exactly as the per-client counts do.
 */
export function perIpCounterStore(keyPrefix: string, redis: Redis | undefined): NonNullable<RateLimitPluginOptions['store']> {
  const routeStore = (counter: RateLimiterAbstract | undefined): CounterStore => ({
    incr(key, callback) {
      if (!counter) return callback(new Error('rate limits are counted per route'));
      counter.consume(key).then(
        (result) => callback(null, { current: result.consumedPoints, ttl: result.msBeforeNext }),
        (refusal: unknown) =>
          refusal instanceof RateLimiterRes ? callback(null, { current: refusal.consumedPoints, ttl: refusal.msBeforeNext }) : callback(refusal as Error),
      );
    },
    child: ({ max, timeWindow, routeInfo }) =>
      routeStore(requestCounter({ keyPrefix: `${keyPrefix}${routeInfo.method}${routeInfo.url}`, points: max, duration: Math.ceil(timeWindow / 1000) }, redis)),
  });
  // The plugin builds its root store with `new`; only its per-route children count.
  return function RootStore() {
    return routeStore(undefined);
  } as unknown as NonNullable<RateLimitPluginOptions['store']>;
}

/** The body of every 429 answer. */
export function tooManyRequestsBody(retryAfterSeconds: number) {
  return { error: 'too_many_requests', error_description: `Rate limit exceeded; retry in ${retryAfterSeconds} seconds.` };
}

function firstString(source: unknown, name: string): string | undefined {
  const value = (source as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value ? value : undefined;
}

/**
 * The client id a request names, from HTTP Basic credentials, the body or the query. Used only as
 * a counter key, so it is read leniently and never trusted for anything else.
 */
function namedClientId(request: FastifyRequest): string | undefined {
  const clientId = basicCredentialParts(request.headers.authorization)?.[0];
  // A malformed encoding is kept as it came.
  if (clientId) return formDecode(clientId) ?? clientId;
  return firstString(request.body, 'client_id') ?? firstString(request.query, 'client_id');
}

/** The per-client limiter as a preHandler. */
export function clientRateLimiter(ctx: Context, redis: Redis | undefined): preHandlerAsyncHookHandler {
  const limiters = new Map<ClientRateLimitedEndpoint, RateLimiterAbstract>(
    CLIENT_RATE_LIMITED_ENDPOINTS.map((endpoint) => {
      const options = { keyPrefix: `${ctx.config.redisKeyPrefix}rl-client:${endpoint}`, points: ctx.config.clientRateLimits[endpoint], duration: WINDOW_SECONDS };
      return [endpoint, requestCounter(options, redis)];
    }),
  );
  return async (request, reply) => {
    const endpoint = request.routeOptions.config.clientRateLimit;
    const clientId = endpoint && namedClientId(request);
    if (!endpoint || !clientId) return;
    // Hashed so an oversized or odd client id makes an ordinary, fixed-size key.
    const key = createHash('sha256').update(clientId).digest('base64url');
    try {
      await limiters.get(endpoint)!.consume(key);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      ctx.metrics.rateLimited(endpoint, 'client');
      const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      return reply.status(429).header('retry-after', String(retryAfter)).header('cache-control', 'no-store').send(tooManyRequestsBody(retryAfter));
    }
  };
}

/** Wrong user codes are counted over an hour (docs/device-flow.md has the arithmetic). */
const USER_CODE_WINDOW_SECONDS = 3600;

export interface UserCodeAttempts {
  /**
   * Counts an attempt at a user code from `ip`, against that address's budget and everyone's;
   * the seconds to wait when either is spent, else 0. `forgive` takes back an attempt whose code
   * was right, so only wrong codes use the budgets up.
   */
  begin(ip: string): Promise<{ retryAfterSeconds: number; forgive(): Promise<void> }>;
}

/**
 * The verification page's guard against guessing user codes (RFC 8628 §5.1): wrong codes per
 * address, and in all, since a botnet has many addresses. Counted before the lookup, so
 * concurrent guesses cannot slip past the budget.
 */
export function userCodeAttempts(ctx: Context, redis: Redis | undefined): UserCodeAttempts {
  if (!ctx.config.rateLimits.enabled) return { begin: async () => ({ retryAfterSeconds: 0, forgive: async () => undefined }) };
  const prefix = ctx.config.redisKeyPrefix;
  const { wrongCodesPerAddress, wrongCodesTotal } = ctx.config.deviceCode;
  const perAddress = requestCounter({ keyPrefix: `${prefix}user-code-ip`, points: wrongCodesPerAddress, duration: USER_CODE_WINDOW_SECONDS }, redis);
  const total = requestCounter({ keyPrefix: `${prefix}user-code-all`, points: wrongCodesTotal, duration: USER_CODE_WINDOW_SECONDS }, redis);
  const consume = async (counter: RateLimiterAbstract, key: string, metric: 'ip' | 'all'): Promise<number> => {
    try {
      await counter.consume(key);
      return 0;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      ctx.metrics.rateLimited('device_verification', metric);
      return Math.max(1, Math.ceil(error.msBeforeNext / 1000));
    }
  };
  return {
    async begin(ip) {
      const key = createHash('sha256').update(ip).digest('base64url');
      const waitAddress = await consume(perAddress, key, 'ip');
      // An address over its own budget does not spend everyone's.
      const waitTotal = waitAddress ? 0 : await consume(total, 'all', 'all');
      return {
        retryAfterSeconds: Math.max(waitAddress, waitTotal),
        async forgive() {
          await Promise.all([perAddress.reward(key), total.reward('all')]);
        },
      };
    },
  };
}
