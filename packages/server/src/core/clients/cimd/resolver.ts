/**
 * Resolves a CIMD client id to a client: refuse bad URLs and blocked ones, serve the cached
 * document (a stale one too, while it is refreshed in the background), and otherwise fetch it —
 * one request per URL however many ask at once, within per-IP and global limits on new fetches.
 * Any refusal resolves to nothing, which the callers turn into `invalid_client`.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../../config.js';
import { requestCounter } from '../../../ops/counters.js';
import type { Metrics, RateLimitKey } from '../../../ops/metrics.js';
import type { Repositories } from '../../../store/index.js';
import type { ScopeRegistry } from '../../oauth/scopes.js';
import type { ClientResolver, OAuthClient } from '../client.js';
import { OAuthError } from '../../oauth/errors.js';
import { isBlocked } from './blocklist.js';
import { cacheLifetimeSeconds, readCachedDocument, storeDocument } from './cache.js';
import { parseClientIdUrl } from './client-id-url.js';
import { clientFromDocument } from './document.js';
import { safeFetch, type SafeFetchOptions } from './safe-fetch.js';

export interface CimdResolverDeps {
  store: Repositories;
  config: Config;
  scopes: ScopeRegistry;
  /** Shares the first-fetch limits across instances when configured. */
  redis?: Redis | undefined;
  metrics: Metrics;
  /** Epoch milliseconds. */
  now(): number;
}

const MAX_DOCUMENT_BYTES = 5 * 1024;
const FETCH_TIMEOUT_MS = 3000;
/** The limit on new fetches from all requesters together, as a multiple of the per-IP limit. */
const GLOBAL_LIMIT_FACTOR = 10;

function refusalToUndefined(error: unknown): undefined {
  if (error instanceof OAuthError && error.code === 'invalid_client') return undefined;
  throw error;
}

export function createCimdResolver({ store, config, scopes, redis, metrics, now }: CimdResolverDeps): ClientResolver {
  const rules = { platformName: config.platformName, scopes };
  const fetchOptions: SafeFetchOptions = {
    allowLoopback: config.cimdAllowLoopback,
    // Read once at start-up, so a wrong path fails there rather than on the first sign-in.
    extraCa: config.cimdCaFile ? readFileSync(config.cimdCaFile, 'utf8') : undefined,
    timeoutMs: FETCH_TIMEOUT_MS,
    maxBytes: MAX_DOCUMENT_BYTES,
  };
  const limits = config.rateLimits.enabled
    ? {
        perIp: requestCounter({ keyPrefix: `${config.redisKeyPrefix}cimd-ip`, points: config.rateLimits.cimd, duration: 60 }, redis),
        global: requestCounter({ keyPrefix: `${config.redisKeyPrefix}cimd-all`, points: config.rateLimits.cimd * GLOBAL_LIMIT_FACTOR, duration: 60 }, redis),
      }
    : undefined;
  const inFlight = new Map<string, Promise<OAuthClient>>();

  /** Fetches, validates and caches a document; concurrent callers for one URL share one fetch. */
  function fetchDocument(clientId: string, url: URL): Promise<OAuthClient> {
    let pending = inFlight.get(clientId);
    if (!pending) {
      pending = (async () => {
        const fetched = await safeFetch(url, fetchOptions).catch((error: unknown) => {
          metrics.cimdFetched('fetch_failed');
          throw error;
        });
        let document: unknown;
        let client: OAuthClient;
        try {
          document = JSON.parse(fetched.body);
          client = clientFromDocument(clientId, document, rules);
        } catch (error) {
          metrics.cimdFetched('invalid_document');
          if (error instanceof SyntaxError) throw new OAuthError('invalid_client', 'client metadata document is not JSON');
          throw error;
        }
        metrics.cimdFetched('fetched');
        await storeDocument(store, clientId, document, now(), cacheLifetimeSeconds(fetched.cacheControl));
        return client;
      })().finally(() => inFlight.delete(clientId));
      inFlight.set(clientId, pending);
    }
    return pending;
  }

  async function consumeFirstFetch(ip: string | undefined): Promise<void> {
    if (!limits) return;
    const consume = async (counter: RateLimiterAbstract, key: string, refusedBy: RateLimitKey) => {
      try {
        await counter.consume(key);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        metrics.rateLimited('cimd', refusedBy);
        throw new OAuthError('temporarily_unavailable', 'too many new client metadata documents to fetch; try again in a minute');
      }
    };
    await consume(limits.perIp, ip ?? 'unknown', 'ip');
    await consume(limits.global, 'all', 'all');
  }

  return {
    async resolve(clientId, meta = {}) {
      let url: URL;
      try {
        url = parseClientIdUrl(clientId);
      } catch (error) {
        return refusalToUndefined(error);
      }
      if (await isBlocked(store, url)) return undefined;

      const cached = await readCachedDocument(store, clientId);
      if (cached) {
        let client: OAuthClient | undefined;
        try {
          client = clientFromDocument(clientId, cached.document, rules);
        } catch (error) {
          refusalToUndefined(error); // stored under older rules or settings: fetch it again below
        }
        if (client && cached.expiresAt > now()) return client;
        if (client) {
          // A failed refresh is not cached: the stale document is dropped and the next request fetches anew.
          fetchDocument(clientId, url).catch(() => store.cimd.forgetDocument(clientId).catch(() => undefined));
          return client;
        }
      }

      if (!inFlight.has(clientId)) await consumeFirstFetch(meta.ip);
      return fetchDocument(clientId, url).catch(refusalToUndefined);
    },
  };
}
