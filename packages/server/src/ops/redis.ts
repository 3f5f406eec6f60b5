/**
 * The optional Redis connection (REDIS_URL): shared rate-limit counters and client-change
 * announcements. Tessera works without it, so while it is unreachable nothing waits on it: no
 * command is queued for later (it fails at once and the caller falls back, see src/counters.ts), a
 * command to a Redis that stopped answering gives up after COMMAND_TIMEOUT_MS, and reconnection
 * goes on in the background with a bounded backoff. Its going away and coming back are logged
 * once each, never once per attempt.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Availability } from './availability.js';

/** A Redis command normally takes well under a millisecond; one that takes this long is not coming. */
const COMMAND_TIMEOUT_MS = 200;
/** No request waits on a connection attempt (commands fail at once while disconnected), so this only paces reconnection to a Redis that does not answer. */
const CONNECT_TIMEOUT_MS = 3000;
const MAX_RECONNECT_DELAY_MS = 2000;

export interface RedisConnection {
  redis: Redis;
  availability: Availability;
  close(): void;
}

/** A reconnection attempt's delay: 200 ms, doubling up to 2 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(100 * 2 ** Math.min(attempt, 5), MAX_RECONNECT_DELAY_MS);
}

export function connectRedis(url: string, log: Logger): RedisConnection {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    // A command under way when the connection drops fails then, rather than after the reconnection.
    maxRetriesPerRequest: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: reconnectDelay,
  });
  const availability = new Availability(log, {
    down: 'Redis is unavailable: rate limits count on this instance only, and client changes are not announced (other instances see them within a second) until it is back',
    up: 'Redis is available again',
  });
  let lastError = 'connection closed';
  let closing = false;
  // ioredis emits 'error' on every failed attempt; with this listener it prints nothing itself.
  redis.on('error', (error: Error & { code?: string }) => {
    lastError = error.code ?? error.name;
  });
  redis.on('close', () => {
    if (!closing) availability.down(lastError);
  });
  redis.on('ready', () => {
    lastError = 'connection closed';
    availability.up();
  });
  return {
    redis,
    availability,
    close() {
      closing = true;
      redis.disconnect();
    },
  };
}
