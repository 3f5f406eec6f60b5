/**
 * Request counters for rate limits that are not per route (per client id, CIMD first fetches,
 * password checks per account and per address, mails per address).
 * In Redis when it is configured, so every instance shares one budget; a failing Redis falls back
 * to counting in memory on this instance rather than letting every request through.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** `blockDuration` (seconds): once more than `points` are consumed, the key stays refused that long. */
export function requestCounter(options: { keyPrefix: string; points: number; duration: number; blockDuration?: number }, redis: Redis | undefined): RateLimiterAbstract {
  const memory = new RateLimiterMemory(options);
  return redis ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory }) : memory;
}
