/**
 * With Redis configured, a change to a registered client made on one instance (or by the CLI) is
 * announced on a channel, and every instance drops its recently read copy at once instead of
 * within RECENT_CLIENT_MS. Without Redis, or while it is unreachable, the copy still expires on
 * its own: the announcement only shortens the wait.
 */
import type { Redis } from 'ioredis';
import type { ClientDirectory } from './client.js';

export interface SharedClientDirectory {
  clients: ClientDirectory;
  /** Stops listening for other instances' changes. */
  close(): void;
}

export function shareClientChanges(clients: ClientDirectory, redis: Redis, channel: string): SharedClientDirectory {
  // Subscribing takes a connection of its own: a subscribed connection can run nothing else.
  const subscriber = redis.duplicate();
  subscriber.on('message', (_channel: string, clientId: string) => clients.forget(clientId));
  subscriber.on('error', () => undefined); // ioredis reconnects and subscribes again by itself
  void subscriber.subscribe(channel).catch(() => undefined);
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
