/**
 * With Redis configured, a change to a registered client made on one instance (or by the CLI) is
 * announced on a channel, and every instance drops its recently read copy at once instead of
 * within RECENT_CLIENT_MS. Without Redis, or while it is unreachable, the copy still expires on
 * its own: the announcement only shortens the wait, and announcements resume when Redis is back.
 */
import type { Redis } from 'ioredis';
import type { ClientDirectory } from './client.js';

export interface SharedClientDirectory {
  clients: ClientDirectory;
  /** Stops listening for other instances' changes. */
  close(): void;
}

export function shareClientChanges(clients: ClientDirectory, redis: Redis, channel: string): SharedClientDirectory {
  // Subscribing takes a connection of its own: a subscribed connection can run nothing else. It
  // subscribes on every (re)connection, including one made after Redis was away at start.
  const subscriber = redis.duplicate({ autoResubscribe: false });
  subscriber.on('message', (_channel: string, clientId: string) => clients.forget(clientId));
  subscriber.on('ready', () => void subscriber.subscribe(channel).catch(() => undefined));
  // Failed attempts are logged once, by the main connection (src/redis.ts); this one only retries.
  subscriber.on('error', () => undefined);
  return {
    clients: {
      ...clients,
      forget(clientId) {
        // At once here, without waiting on Redis; this instance hears its own announcement too, a harmless second forget.
        clients.forget(clientId);
        void redis.publish(channel, clientId).catch(() => undefined);
      },
    },
    close: () => subscriber.disconnect(),
  };
}
