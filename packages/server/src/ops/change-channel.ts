/**
 * A Redis channel on which instances announce the ids of things they changed, so that every
 * instance can drop what it keeps of them at once (the composition root uses it for the one-second
 * copy of registered clients). Without Redis, or while it is unreachable, nothing is announced and
 * the copies expire on their own; announcements resume when Redis is back.
 */
import type { Redis } from 'ioredis';

export interface ChangeChannel {
  /** Tells every instance, this one included, that `id` changed; never waits on Redis. */
  announce(id: string): void;
  /** Stops listening. */
  close(): void;
}

export function openChangeChannel(redis: Redis, channel: string, onChange: (id: string) => void): ChangeChannel {
  // Subscribing takes a connection of its own: a subscribed connection can run nothing else. It
  // subscribes on every (re)connection, including one made after Redis was away at start.
  const subscriber = redis.duplicate({ autoResubscribe: false });
  subscriber.on('message', (_channel: string, id: string) => onChange(id));
  subscriber.on('ready', () => void subscriber.subscribe(channel).catch(() => undefined));
  // Failed attempts are logged once, by the main connection (ops/redis.ts); this one only retries.
  subscriber.on('error', () => undefined);
  return {
    announce: (id) => void redis.publish(channel, id).catch(() => undefined),
    close: () => subscriber.disconnect(),
  };
}
