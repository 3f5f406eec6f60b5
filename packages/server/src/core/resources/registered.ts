/**
 * Resource servers registered by the operator (`tessera resource create`): a resource URI, a name
 * for the consent page, the format of its access tokens, and credentials with which it may
 * introspect the tokens issued for it (the secret is shown once and stored hashed). Deleting one
 * revokes every token family bound to it; each change is audited.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Store, TransactionWork } from '../../store/index.js';
import type { ResourceServer } from '../../store/schema.js';
import { recordAudit } from '../audit.js';
import type { Context } from '../context.js';
import { constantTimeEqual, generateToken, hashToken } from '../crypto/token-formats.js';
import { OAuthError } from '../oauth/errors.js';
import { type AccessTokenFormat } from './registry.js';

/** Why a resource URI cannot be registered; undefined when it can. */
export function resourceUriProblem(uri: string, config: Config): string | undefined {
  if (!URL.canParse(uri)) return 'must be an absolute URI';
  if (uri.includes('#')) return 'must not contain a fragment (RFC 8707 §2)';
  const url = new URL(uri);
  if (url.protocol !== 'https:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return 'must use https (http only on loopback)';
  if (config.resources.includes(uri)) return 'is already a configured resource (TESSERA_RESOURCES or the platform API)';
  return undefined;
}

export interface NewResourceServer {
  uri: string;
  name: string;
  tokenFormat: AccessTokenFormat;
  accessTokenTtl: number | null;
  /** Its tokens are also accepted by the platform API: for a first-party service (an MCP server) that calls the API for the user. */
  platformApiAccess: boolean;
}

/** A client_id is public, so it needs no checksum; the `prs_` prefix tells the introspection endpoint who is calling. */
const RESOURCE_SERVER_ID_PREFIX = 'prs_';

export function isResourceServerClientId(clientId: string): boolean {
  return clientId.startsWith(RESOURCE_SERVER_ID_PREFIX);
}

/** Runs a change to a resource server's row, then has this instance (and, with Redis, every one) read the resource afresh. */
async function changeResource<T extends { resource: ResourceServer } | undefined>(ctx: Context, change: TransactionWork<T>): Promise<T> {
  const result = await ctx.store.transaction(change);
  if (result) ctx.resources.forget(result.resource.uri);
  return result;
}

/** Registers a resource server; its secret is returned here and never again. */
export async function createResourceServer(ctx: Context, input: NewResourceServer): Promise<{ resource: ResourceServer; clientSecret: string }> {
  const now = ctx.now();
  const clientSecret = generateToken('resourceServerSecret');
  const row: ResourceServer = {
    id: randomUUID(),
    uri: input.uri,
    name: input.name,
    client_id: RESOURCE_SERVER_ID_PREFIX + generateToken('clientId').slice(4, 4 + 32),
    secret_hash: hashToken(clientSecret),
    token_format: input.tokenFormat,
    access_token_ttl: input.accessTokenTtl,
    platform_api_access: input.platformApiAccess ? 1 : 0,
    created_at: now,
    secret_rotated_at: null,
  };
  return changeResource(ctx, async (tx) => {
    await tx.resourceServers.insert(row);
    await recordAudit(tx, { type: 'resource_server.created', userId: null, actor: 'system:cli', detail: { resource_server_id: row.id, uri: row.uri, token_format: row.token_format } }, now);
    return { resource: row, clientSecret };
  });
}

/** Replaces the secret; the old one stops working at once. Undefined when there is no such resource server. */
export async function rotateResourceServerSecret(ctx: Context, reference: string): Promise<{ resource: ResourceServer; clientSecret: string } | undefined> {
  const now = ctx.now();
  const clientSecret = generateToken('resourceServerSecret');
  return changeResource(ctx, async (tx) => {
    const row = await tx.resourceServers.findByReference(reference);
    if (!row) return undefined;
    await tx.resourceServers.replaceSecret(row.id, hashToken(clientSecret), now);
    await recordAudit(tx, { type: 'resource_server.secret_rotated', userId: null, actor: 'system:cli', detail: { resource_server_id: row.id, uri: row.uri } }, now);
    return { resource: row, clientSecret };
  });
}

/**
 * Deletes a resource server: no new token names it from now on, and every token family bound to
 * it is revoked, so its opaque tokens and refresh tokens stop at once (a JWT access token lives
 * out its short lifetime at a resource server that checks it offline).
 */
export async function deleteResourceServer(ctx: Context, reference: string): Promise<{ resource: ResourceServer; revokedFamilies: number } | undefined> {
  const now = ctx.now();
  return changeResource(ctx, async (tx) => {
    const row = await tx.resourceServers.findByReference(reference);
    if (!row) return undefined;
    await tx.resourceServers.delete(row.id);
    const revokedFamilies = await tx.resourceServers.revokeFamiliesFor(row.uri, 'resource server deleted', now);
    await recordAudit(tx, { type: 'resource_server.deleted', userId: null, actor: 'system:cli', detail: { resource_server_id: row.id, uri: row.uri, revoked_families: revokedFamilies } }, now);
    return { resource: row, revokedFamilies };
  });
}

/** A resource server's credentials at the introspection endpoint (RFC 7662 §2.1); invalid_client otherwise. */
export async function authenticateResourceServer(store: Store, clientId: string, clientSecret: string | undefined): Promise<ResourceServer> {
  const row = await store.resourceServers.findByClientId(clientId);
  if (!row) throw new OAuthError('invalid_client', 'unknown client');
  if (clientSecret === undefined) throw new OAuthError('invalid_client', 'client secret is required for a resource server');
  if (!constantTimeEqual(hashToken(clientSecret), row.secret_hash)) throw new OAuthError('invalid_client', 'client authentication failed');
  return row;
}
