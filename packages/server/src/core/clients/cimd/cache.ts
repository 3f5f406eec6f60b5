/**
 * Fetched documents, kept in the database so every instance shares them. How long one stays fresh
 * comes from its Cache-Control max-age, clamped so a document can neither be refetched on every
 * request nor kept for days after its owner changed it. Only valid documents are ever stored.
 */
import type { Repositories } from '../../../store/index.js';

const MIN_LIFETIME_SECONDS = 5 * 60;
const MAX_LIFETIME_SECONDS = 24 * 3600;
const DEFAULT_LIFETIME_SECONDS = 3600;

/** Seconds a document stays fresh, from its Cache-Control header. */
export function cacheLifetimeSeconds(cacheControl: string | undefined): number {
  const directives = (cacheControl ?? '').toLowerCase().split(',').map((directive) => directive.trim());
  // no-store and no-cache still get the minimum: refetching on every request would let a client
  // turn each authorization into a request from us to any server it names.
  if (directives.some((directive) => directive === 'no-store' || directive === 'no-cache')) return MIN_LIFETIME_SECONDS;
  const maxAge = directives.map((directive) => /^max-age="?(\d+)"?$/.exec(directive)?.[1]).find((value) => value !== undefined);
  if (maxAge === undefined) return DEFAULT_LIFETIME_SECONDS;
  return Math.min(MAX_LIFETIME_SECONDS, Math.max(MIN_LIFETIME_SECONDS, Number(maxAge)));
}

export interface CachedDocument {
  document: unknown;
  fetchedAt: number;
  expiresAt: number;
}

export async function readCachedDocument(store: Repositories, clientId: string): Promise<CachedDocument | undefined> {
  const row = await store.cimd.findDocument(clientId);
  return row && { document: JSON.parse(row.document) as unknown, fetchedAt: row.fetched_at, expiresAt: row.expires_at };
}

export async function storeDocument(store: Repositories, clientId: string, document: unknown, fetchedAt: number, lifetimeSeconds: number): Promise<void> {
  await store.cimd.storeDocument({ client_id: clientId, document: JSON.stringify(document), fetched_at: fetchedAt, expires_at: fetchedAt + lifetimeSeconds * 1000 });
}
