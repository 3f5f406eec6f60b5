/** Chooses where a client id is looked up: a URL is a Client ID Metadata Document, anything else a row. */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { ClientResolver } from './client.js';
import { findRegisteredClient } from './registered.js';

export function createClientResolver(db: Kysely<Database>, cimd?: ClientResolver): ClientResolver {
  return {
    async resolve(clientId, meta) {
      if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 2048) return undefined;
      if (clientId.startsWith('https://')) return cimd?.resolve(clientId, meta);
      return findRegisteredClient(db, clientId);
    },
  };
}
