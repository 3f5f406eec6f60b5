/** The one shape every kind of client takes once resolved: registered, app, dynamic or CIMD. */
import type { ClientKind } from '../../store/schema.js';
import type { GrantType } from '../oauth/grant-types/names.js';

/** How a client authenticates at the token endpoint (RFC 7591 §2 token_endpoint_auth_method; oauth/client-auth.ts). */
export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export const TOKEN_ENDPOINT_AUTH_METHODS: AuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none'];

export function isAuthMethod(value: unknown): value is AuthMethod {
  return (TOKEN_ENDPOINT_AUTH_METHODS as unknown[]).includes(value);
}

export interface OAuthClient {
  id: string;
  kind: ClientKind;
  name: string;
  description: string | null;
  logoUri: string | null;
  redirectUris: string[];
  isPublic: boolean;
  /** SHA-256 of the client secret; null for public clients. */
  secretHash: string | null;
  /** null: any scope in the registry. */
  scopeCeiling: string[] | null;
  verified: boolean;
  accessTokenTtl: number | null;
  refreshTokenTtl: number | null;
  /** The algorithm the client expects ID tokens signed with (OpenID Connect Registration §2). */
  idTokenSignedResponseAlg: IdTokenAlg;
  /** The method a dynamically registered client chose (RFC 7591 §2); null: a confidential client may use either secret method. */
  tokenEndpointAuthMethod: AuthMethod | null;
  /** The grant types the client may use at the token endpoint (RFC 7591 §2). */
  grantTypes: GrantType[];
}

export const ID_TOKEN_ALGS = ['RS256', 'ES256'] as const;
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];

export function isIdTokenAlg(value: unknown): value is IdTokenAlg {
  return (ID_TOKEN_ALGS as readonly unknown[]).includes(value);
}

/** Who is asking: CIMD limits new document fetches per requester IP. */
export interface ResolveMeta {
  ip?: string | undefined;
}

/** Finds a client by id, whatever kind it is. Implementations: the clients table, CIMD. */
export interface ClientResolver {
  resolve(clientId: string, meta?: ResolveMeta): Promise<OAuthClient | undefined>;
}

/** `ctx.clients`: every kind of client, and a short-lived copy of registered ones for client authentication. */
export interface ClientDirectory extends ClientResolver {
  /**
   * As `resolve`, but a registered client may come from this instance's memory, read at most
   * `RECENT_CLIENT_MS` ago. Client authentication runs on every token, revocation and
   * introspection request, and reading the client row was a large part of each.
   */
  resolveRecent(clientId: string, meta?: ResolveMeta): Promise<OAuthClient | undefined>;
  /** Drops this instance's copy of a client it just changed, so that its next request sees the change. */
  forget(clientId: string): void;
}
