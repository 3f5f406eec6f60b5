/**
 * Client ids an instance admin has refused: an exact client id URL, or a domain, which also covers
 * every subdomain. A blocked client resolves to nothing, whatever is cached for it.
 */
import { isIP } from 'node:net';
import type { Repositories } from '../../../store/index.js';
import { OAuthError } from '../../oauth/errors.js';
import { parseClientIdUrl } from './client-id-url.js';

export interface BlockEntry {
  pattern: string;
  reason: string | null;
  createdAt: number;
}

/** The pattern to store for an admin's input: a valid client id URL, or a lowercase domain; undefined if neither. */
export function parseBlockPattern(input: string): string | undefined {
  if (input.startsWith('https://')) {
    try {
      return parseClientIdUrl(input).href;
    } catch (error) {
      if (error instanceof OAuthError) return undefined;
      throw error;
    }
  }
  const domain = input.toLowerCase().replace(/\.$/, '');
  if (!/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(domain) || domain.length > 253) return undefined;
  return domain;
}

/**
 * The client id itself and each domain it lies under: a.b.example.com → a.b.example.com,
 * b.example.com, example.com, com. The host is normalised first (lowercase, no trailing dot: the
 * same host however it is spelled), so no spelling of a blocked host gets past the list, whether or
 * not the caller already refused it as not canonical.
 */
function patternsCovering(url: URL): string[] {
  const normalized = new URL(url.href);
  normalized.hostname = url.hostname.toLowerCase().replace(/\.+$/, '');
  const host = normalized.hostname;
  const exact = [...new Set([url.href, normalized.href])];
  if (isIP(host.replace(/^\[(.*)\]$/, '$1'))) return [...exact, host];
  const labels = host.split('.');
  return [...exact, ...labels.map((_, index) => labels.slice(index).join('.'))];
}

export function isBlocked(store: Repositories, url: URL): Promise<boolean> {
  return store.cimd.anyBlocked(patternsCovering(url));
}

export async function listBlocked(store: Repositories): Promise<BlockEntry[]> {
  return (await store.cimd.listBlocked()).map((row) => ({ pattern: row.pattern, reason: row.reason, createdAt: row.created_at }));
}
