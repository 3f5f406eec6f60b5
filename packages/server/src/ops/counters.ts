/**
 * Request counters for rate limits: per IP address on each limited route, per client id, CIMD
 * first fetches, password checks per account and per address, mails per address. In Redis when it
 * is configured, so every instance shares one budget. While Redis is unreachable each instance
 * counts in its own memory instead: at once (a Redis that is not connected is not even asked; see
 * src/redis.ts for the command timeout), and never by letting every request through.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** `blockDuration` (seconds): once more than `points` are consumed, the key stays refused that long. */
export function requestCounter(options: { keyPrefix: string; points: number; duration: number; blockDuration?: number }, redis: Redis | undefined): RateLimiterAbstract {
  const memory = new RateLimiterMemory(options);
  return redis ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory, rejectIfRedisNotReady: true }) : memory;
}
