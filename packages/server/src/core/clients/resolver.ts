/** Chooses where a client id is looked up: a URL is a Client ID Metadata Document, anything else a row. */
import type { Repositories } from '../../store/index.js';
import { RecentReads } from '../short-lived-cache.js';
import type { ClientDirectory, ClientResolver, OAuthClient } from './client.js';
import { findRegisteredClient } from './registered.js';

/**
 * How old a registered client read for authentication may be. A change made on this instance is
 * seen at once (`forget`); one made on another instance or by the CLI within this time.
 */
export const RECENT_CLIENT_MS = 1_000;

export function createClientResolver(store: Repositories, cimd?: ClientResolver, now: () => number = Date.now): ClientDirectory {
  const recent = new RecentReads<OAuthClient | undefined>(RECENT_CLIENT_MS);

  const resolve: ClientResolver['resolve'] = async (clientId, meta) => {
    if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 2048) return undefined;
    if (clientId.startsWith('https://')) return cimd?.resolve(clientId, meta);
    return findRegisteredClient(store, clientId);
  };

  return {
    resolve,
    resolveRecent(clientId, meta) {
      // CIMD documents have their own cache; unknown ids are not kept, so a new client works at once.
      return recent.read(clientId, now(), () => resolve(clientId, meta), (client) => client !== undefined && client.kind !== 'cimd');
    },
    forget(clientId) {
      recent.forget(clientId);
    },
  };
}
