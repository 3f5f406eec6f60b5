/**
 * Token families and their tokens. A family is everything issued from one authorization code;
 * it carries the user, client, scope and narrowing, so revoking a family is one row update.
 */
import { randomUUID } from 'node:crypto';
import type { Repositories } from '../../store/index.js';
import type { TokenFamily } from '../../store/schema.js';
import type { Context } from '../context.js';
import type { OAuthClient } from '../clients/client.js';
import type { Narrowing } from './narrowing.js';
import { boundScopes, formatScope, parseScope } from './scopes.js';
import { constantTimeEqual, generateToken, hashToken, isToken, locator, parseToken, tokenRowId, type TokenKind } from '../crypto/token-formats.js';
import { jwtAccessTokenId, signJwtAccessToken } from '../resources/jwt-access-tokens.js';

export interface NewFamily {
  id?: string;
  userId: string;
  clientId: string;
  authorizationId: string;
  scopes: string[];
  narrowing: Narrowing;
  resource: string | null;
  authTime: number;
  /** How the user signed in (space-separated `amr`; none means `pwd`), and the acr for ID tokens when asked for. */
  amr?: string | null;
  acr?: string | null;
}

export async function createFamily(tx: Repositories, input: NewFamily, now: number): Promise<TokenFamily> {
  const family: TokenFamily = {
    id: input.id ?? randomUUID(),
    user_id: input.userId,
    client_id: input.clientId,
    authorization_id: input.authorizationId,
    scope: formatScope(input.scopes),
    access_level: input.narrowing.accessLevel,
    organization_ids: JSON.stringify(input.narrowing.organizationIds),
    project_ids: JSON.stringify(input.narrowing.projectIds),
    resource: input.resource,
    auth_time: input.authTime,
    amr: input.amr ?? null,
    acr: input.acr ?? null,
    created_at: now,
    revoked_at: null,
    revoked_reason: null,
  };
  await tx.tokens.createFamily(family);
  return family;
}

export interface IssuedTokens {
  accessToken: string;
  /** None for a client not registered for the refresh_token grant. */
  refreshToken: string | undefined;
  accessExpiresIn: number;
  scope: string;
}

/** Freshly generated tokens, not yet stored: callers may decide first whether to keep them. */
export interface TokenPair<Refresh extends string | undefined = string> {
  issued: IssuedTokens & { refreshToken: Refresh };
  /** The access token's row id: its locator, or the `jti` of a JWT access token. */
  accessTokenId: string;
  accessExpiresAt: number;
  refreshExpiresAt: number;
}

/**
 * The lifetime and format of an access token for the family's resource: a registered resource
 * sets both (RFC 9068 JWTs for `jwt`), otherwise the client's or the deployment's lifetime.
 */
async function accessTokenPolicy(ctx: Context, tx: Repositories, family: TokenFamily, client: OAuthClient): Promise<{ ttl: number; jwt: boolean }> {
  const resource = family.resource === null ? undefined : await ctx.resources.findRecent(tx, family.resource);
  const jwt = resource?.tokenFormat === 'jwt';
  const ttl = resource?.accessTokenTtl ?? client.accessTokenTtl ?? ctx.config.ttl.accessToken;
  // A key leaves the JWKS once the ID tokens it signed have expired; a JWT access token must not outlive that.
  return { ttl: jwt ? Math.min(ttl, ctx.config.ttl.idToken) : ttl, jwt };
}

/** An access token for the family and, when `withRefreshToken`, a refresh token, with the client's and resource's lifetimes. */
export async function generateTokenPair(ctx: Context, tx: Repositories, family: TokenFamily, client: OAuthClient, accessScope: string): Promise<TokenPair>;
export async function generateTokenPair(ctx: Context, tx: Repositories, family: TokenFamily, client: OAuthClient, accessScope: string, withRefreshToken: boolean): Promise<TokenPair<string | undefined>>;
export async function generateTokenPair(ctx: Context, tx: Repositories, family: TokenFamily, client: OAuthClient, accessScope: string, withRefreshToken = true): Promise<TokenPair<string | undefined>> {
  const now = ctx.now();
  const policy = await accessTokenPolicy(ctx, tx, family, client);
  const refreshTtl = client.refreshTokenTtl ?? ctx.config.ttl.refreshToken;
  let accessToken: string;
  let accessTokenId: string;
  let accessExpiresAt = now + policy.ttl * 1000;
  if (policy.jwt) {
    accessTokenId = locator(now);
    const issuedAt = Math.floor(now / 1000);
    accessExpiresAt = (issuedAt + policy.ttl) * 1000; // whole seconds, as the token's exp says
    accessToken = await signJwtAccessToken(ctx, tx, { family, jti: accessTokenId, scope: accessScope, issuedAt, expiresAt: issuedAt + policy.ttl });
  } else {
    accessToken = generateToken('accessToken', now);
    accessTokenId = tokenRowId(accessToken);
  }
  return {
    issued: {
      accessToken,
      refreshToken: withRefreshToken ? generateToken('refreshToken', now) : undefined,
      accessExpiresIn: policy.ttl,
      scope: accessScope,
    },
    accessTokenId,
    accessExpiresAt,
    refreshExpiresAt: now + refreshTtl * 1000,
  };
}

/**
 * Stores the tokens into a family. `responseSealed` is the token response that issued the pair,
 * sealed under the refresh token it replaces, when the pair comes from a rotation.
 */
export async function storeTokenPair(tx: Repositories, family: TokenFamily, pair: TokenPair<string | undefined>, now: number, responseSealed: string | null = null): Promise<void> {
  const { accessToken, refreshToken, scope } = pair.issued;
  await tx.tokens.insertAccessToken({ id: pair.accessTokenId, token_hash: hashToken(accessToken), family_id: family.id, scope, expires_at: pair.accessExpiresAt, created_at: now });
  if (refreshToken === undefined) return;
  await tx.tokens.insertRefreshToken({
    id: tokenRowId(refreshToken),
    token_hash: hashToken(refreshToken),
    family_id: family.id,
    expires_at: pair.refreshExpiresAt,
    created_at: now,
    response_sealed: responseSealed,
  });
}

/** Mints an access token into a family, and a refresh token when the client is registered for the refresh_token grant. */
export async function mintTokens(
  ctx: Context,
  tx: Repositories,
  family: TokenFamily,
  client: OAuthClient,
  accessScope: string,
): Promise<IssuedTokens> {
  const pair = await generateTokenPair(ctx, tx, family, client, accessScope, client.grantTypes.includes('refresh_token'));
  await storeTokenPair(tx, family, pair, ctx.now());
  return pair.issued;
}

/** What a presented token is: an opaque token's kind, or `accessToken` for anything shaped like a JWT access token. */
export function presentedTokenKind(token: unknown): TokenKind | undefined {
  return parseToken(token) ?? (jwtAccessTokenId(token) === undefined ? undefined : 'accessToken');
}

export interface ActiveAccessToken {
  /** The row id. */
  id: string;
  scope: string;
  expiresAt: number;
  createdAt: number;
  family: TokenFamily;
}

export interface AccessTokenRecord extends ActiveAccessToken {
  revokedAt: number | null;
}

/** Unexpired and unrevoked, itself and its family. */
export function isActiveAccessToken(record: AccessTokenRecord, now: number): boolean {
  return record.revokedAt === null && record.family.revoked_at === null && record.expiresAt > now;
}

/** An access token that is well-formed, known, unexpired and unrevoked (itself and its family). */
export async function findActiveAccessToken(store: Repositories, token: unknown, now: number): Promise<ActiveAccessToken | undefined> {
  const record = await findAccessToken(store, token);
  return record && isActiveAccessToken(record, now) ? record : undefined;
}

/**
 * An access token Tessera issued, opaque or JWT, whatever its state; undefined when malformed or unknown. Its scope
 * is bounded by its family's, which a lowered scope ceiling narrows (`applyLoweredCeiling`), so
 * the resource server, introspection and userinfo never honour a scope taken away since.
 */
export async function findAccessToken(store: Repositories, token: unknown): Promise<AccessTokenRecord | undefined> {
  const id = isToken(token, 'accessToken') ? tokenRowId(token) : jwtAccessTokenId(token);
  if (id === undefined) return undefined;
  const row = await store.tokens.findAccessToken(id);
  if (!row || !constantTimeEqual(row.token_hash, hashToken(token as string))) return undefined;
  const { family } = row;
  const scope = row.scope === family.scope ? row.scope : formatScope(boundScopes(parseScope(row.scope), parseScope(family.scope)));
  return { id, scope, expiresAt: row.expires_at, createdAt: row.created_at, revokedAt: row.revoked_at, family };
}

export interface RefreshTokenRecord {
  /** The row id. */
  id: string;
  expiresAt: number;
  createdAt: number;
  rotatedAt: number | null;
  successorId: string | null;
  revokedAt: number | null;
  family: TokenFamily;
}

/** A refresh token row with its family, whatever its state; the caller decides what the state means. */
export async function findRefreshToken(store: Repositories, token: unknown): Promise<RefreshTokenRecord | undefined> {
  if (!isToken(token, 'refreshToken')) return undefined;
  const id = tokenRowId(token);
  const row = await store.tokens.findRefreshToken(id);
  if (!row || !constantTimeEqual(row.token_hash, hashToken(token))) return undefined;
  return { id, expiresAt: row.expires_at, createdAt: row.created_at, rotatedAt: row.rotated_at, successorId: row.successor_id, revokedAt: row.revoked_at, family: row.family };
}
