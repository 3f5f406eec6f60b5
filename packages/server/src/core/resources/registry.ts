/**
 * The protected resources (RFC 8707 resource indicators) this instance issues tokens for: the
 * platform API and any configured in TESSERA_RESOURCES (configuration only: opaque tokens, no
 * credentials), and the resource servers registered with `tessera resource create`. A request's
 * `resource` must name one of them.
 */
import type { Config } from '../../config.js';
import type { Repositories } from '../../store/index.js';
import type { ResourceServer } from '../../store/schema.js';
import { RecentReads } from '../short-lived-cache.js';

export type AccessTokenFormat = 'opaque' | 'jwt';
export const ACCESS_TOKEN_FORMATS: readonly AccessTokenFormat[] = ['opaque', 'jwt'];

/** RFC 9068 tokens cannot be recalled before they expire, so theirs is short unless the resource says otherwise. */
export const DEFAULT_JWT_ACCESS_TOKEN_TTL = 300;

export interface ProtectedResource {
  uri: string;
  /** Shown on the consent page when the token is not for the platform API. */
  name: string;
  isPlatformApi: boolean;
  tokenFormat: AccessTokenFormat;
  /** Seconds; undefined: the client's or the deployment's lifetime (opaque tokens). */
  accessTokenTtl: number | undefined;
  /** Set for a registered resource server. */
  registration: ResourceServer | undefined;
}

export function isAccessTokenFormat(value: unknown): value is AccessTokenFormat {
  return (ACCESS_TOKEN_FORMATS as readonly unknown[]).includes(value);
}

export function fromRegistration(row: ResourceServer): ProtectedResource {
  return {
    uri: row.uri,
    name: row.name,
    isPlatformApi: false,
    tokenFormat: row.token_format,
    accessTokenTtl: row.access_token_ttl ?? (row.token_format === 'jwt' ? DEFAULT_JWT_ACCESS_TOKEN_TTL : undefined),
    registration: row,
  };
}

/** How the consent page names the resource a token is for; undefined for the platform API, which needs no mention. */
export function resourceShownAtConsent(resource: ProtectedResource | undefined): { name: string; host: string } | undefined {
  return resource && !resource.isPlatformApi ? { name: resource.name, host: new URL(resource.uri).host } : undefined;
}

/** The resource `uri` names, configured or registered; undefined when this instance serves no such resource. */
export async function findResource(store: Repositories, config: Config, uri: string): Promise<ProtectedResource | undefined> {
  if (config.resources.includes(uri)) {
    const isPlatformApi = uri === config.apiResource;
    return { uri, name: isPlatformApi ? `${config.platformName} API` : new URL(uri).host, isPlatformApi, tokenFormat: 'opaque', accessTokenTtl: undefined, registration: undefined };
  }
  const row = await store.resourceServers.findByUri(uri);
  return row && fromRegistration(row);
}

/**
 * How old a resource read for issuing a token may be. A change made on this instance is seen at
 * once (`forget`); one made on another instance, or by the CLI, within this time.
 */
export const RECENT_RESOURCE_MS = 1_000;

/** `ctx.resources`: a short-lived copy of the resources tokens are issued for. */
export interface ResourceDirectory {
  /**
   * As `findResource`, but the answer (a resource or none) may come from this instance's memory,
   * read at most `RECENT_RESOURCE_MS` ago. Every rotation of a family bound to a resource looks it
   * up for the access token's format and lifetime, and a registered one cost a query each time.
   */
  findRecent(store: Repositories, uri: string): Promise<ProtectedResource | undefined>;
  /** Drops this instance's copy of a resource it just changed, so that the next token sees the change. */
  forget(uri: string): void;
}

export function createResourceDirectory(config: Config, now: () => number = Date.now): ResourceDirectory {
  // "No such resource" is kept too: a family bound to a resource this instance no longer knows
  // must not cost a query per rotation either.
  const recent = new RecentReads<ProtectedResource | undefined>(RECENT_RESOURCE_MS);
  return {
    findRecent(store, uri) {
      return recent.read(uri, now(), () => findResource(store, config, uri));
    },
    forget(uri) {
      recent.forget(uri);
    },
  };
}
