/**
 * Token families and their tokens. A family is everything issued from one authorization code;
 * it carries the user, client, scope and narrowing, so revoking a family is one row update.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Context } from '../context.js';
import { affectedRows, firstRow, prepareQuery } from '../../store/prepared.js';
import type { AccessTokensTable, Database, RefreshTokensTable, TokenFamily } from '../../store/schema.js';
import type { OAuthClient } from '../clients/client.js';
import type { Narrowing } from './authorizations.js';
import { boundScopes, formatScope, parseScope } from './scopes.js';
import { constantTimeEqual, generateToken, hashToken, isToken, tokenRowId } from '../crypto/token-formats.js';

export type Executor = Kysely<Database>;

export interface NewFamily {
  id?: string;
  userId: string;
  clientId: string;
  grantId: string;
  scopes: string[];
  narrowing: Narrowing;
  resource: string | null;
  authTime: number;
  /** How the user signed in (space-separated `amr`; none means `pwd`), and the acr for ID tokens when asked for. */
  amr?: string | null;
  acr?: string | null;
}

export async function createFamily(db: Executor, input: NewFamily, now: number): Promise<TokenFamily> {
  const family: TokenFamily = {
    id: input.id ?? randomUUID(),
    user_id: input.userId,
    client_id: input.clientId,
    grant_id: input.grantId,
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
  await db.insertInto('token_families').values(family).execute();
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
  accessExpiresAt: number;
  refreshExpiresAt: number;
}

/** An access token and, when `withRefreshToken`, a refresh token, with the client's lifetimes. */
export function generateTokenPair(ctx: Context, client: OAuthClient, accessScope: string): TokenPair;
export function generateTokenPair(ctx: Context, client: OAuthClient, accessScope: string, withRefreshToken: boolean): TokenPair<string | undefined>;
export function generateTokenPair(ctx: Context, client: OAuthClient, accessScope: string, withRefreshToken = true): TokenPair<string | undefined> {
  const now = ctx.now();
  const accessTtl = client.accessTokenTtl ?? ctx.config.ttl.accessToken;
  const refreshTtl = client.refreshTokenTtl ?? ctx.config.ttl.refreshToken;
  return {
    issued: {
      accessToken: generateToken('accessToken', now),
      refreshToken: withRefreshToken ? generateToken('refreshToken', now) : undefined,
      accessExpiresIn: accessTtl,
      scope: accessScope,
    },
    accessExpiresAt: now + accessTtl * 1000,
    refreshExpiresAt: now + refreshTtl * 1000,
  };
}

type NewTokenRow = Pick<AccessTokensTable & RefreshTokensTable, 'token_hash' | 'family_id' | 'expires_at' | 'created_at'>;

const insertAccessToken = prepareQuery((db, row: NewTokenRow & Pick<AccessTokensTable, 'id' | 'scope'>) =>
  db.insertInto('access_tokens').values({ id: row.id, token_hash: row.token_hash, family_id: row.family_id, scope: row.scope, expires_at: row.expires_at, created_at: row.created_at }),
);
const insertRefreshToken = prepareQuery((db, row: NewTokenRow & Pick<RefreshTokensTable, 'id' | 'response_sealed'>) =>
  db.insertInto('refresh_tokens').values({
    id: row.id,
    token_hash: row.token_hash,
    family_id: row.family_id,
    expires_at: row.expires_at,
    created_at: row.created_at,
    response_sealed: row.response_sealed,
  }),
);

/**
 * Stores the tokens into a family. `responseSealed` is the token response that issued the pair,
 * sealed under the refresh token it replaces, when the pair comes from a rotation.
 */
export async function storeTokenPair(db: Executor, family: TokenFamily, pair: TokenPair<string | undefined>, now: number, responseSealed: string | null = null): Promise<void> {
  const { accessToken, refreshToken, scope } = pair.issued;
  await insertAccessToken(db, { id: tokenRowId(accessToken), token_hash: hashToken(accessToken), family_id: family.id, scope, expires_at: pair.accessExpiresAt, created_at: now });
  if (refreshToken === undefined) return;
  await insertRefreshToken(db, {
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
  db: Executor,
  family: TokenFamily,
  client: OAuthClient,
  accessScope: string,
): Promise<IssuedTokens> {
  const pair = generateTokenPair(ctx, client, accessScope, client.grantTypes.includes('refresh_token'));
  await storeTokenPair(db, family, pair, ctx.now());
  return pair.issued;
}

const revokeFamilyRow = prepareQuery((db, p: { familyId: string; reason: string; now: number }) =>
  db.updateTable('token_families').set({ revoked_at: p.now, revoked_reason: p.reason }).where('id', '=', p.familyId).where('revoked_at', 'is', null),
);

export async function revokeFamily(db: Executor, familyId: string, reason: string, now: number): Promise<boolean> {
  return (await affectedRows(revokeFamilyRow(db, { familyId, reason, now }))) > 0;
}

export async function revokeAccessToken(db: Executor, id: string, now: number): Promise<void> {
  await db.updateTable('access_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

/** Revokes every family of a user for a client, or of every user for a client (app deletion). */
export async function revokeFamiliesOf(
  db: Executor,
  filter: { clientId: string; userId?: string },
  reason: string,
  now: number,
): Promise<number> {
  let query = db
    .updateTable('token_families')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('client_id', '=', filter.clientId)
    .where('revoked_at', 'is', null);
  if (filter.userId) query = query.where('user_id', '=', filter.userId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
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
export async function findActiveAccessToken(db: Executor, token: unknown, now: number): Promise<ActiveAccessToken | undefined> {
  const record = await findAccessToken(db, token);
  return record && isActiveAccessToken(record, now) ? record : undefined;
}

const selectAccessToken = prepareQuery((db, p: { id: string }) =>
  db
    .selectFrom('access_tokens')
    .innerJoin('token_families', 'token_families.id', 'access_tokens.family_id')
    .selectAll('token_families')
    .select([
      'access_tokens.token_hash',
      'access_tokens.scope as token_scope',
      'access_tokens.expires_at as token_expires_at',
      'access_tokens.created_at as token_created_at',
      'access_tokens.revoked_at as token_revoked_at',
    ])
    .where('access_tokens.id', '=', p.id),
);

/**
 * An access token Tessera issued, whatever its state; undefined when malformed or unknown. Its scope
 * is bounded by its family's, which a lowered scope ceiling narrows (`applyLoweredCeiling`), so
 * the resource server, introspection and userinfo never honour a scope taken away since.
 */
export async function findAccessToken(db: Executor, token: unknown): Promise<AccessTokenRecord | undefined> {
  if (!isToken(token, 'accessToken')) return undefined;
  const id = tokenRowId(token);
  const row = await firstRow(selectAccessToken(db, { id }));
  if (!row || !constantTimeEqual(row.token_hash, hashToken(token))) return undefined;
  const { token_hash, token_scope, token_expires_at, token_created_at, token_revoked_at, ...family } = row;
  const scope = token_scope === family.scope ? token_scope : formatScope(boundScopes(parseScope(token_scope), parseScope(family.scope)));
  return { id, scope, expiresAt: token_expires_at, createdAt: token_created_at, revokedAt: token_revoked_at, family };
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

const selectRefreshToken = prepareQuery((db, p: { id: string }) =>
  db
    .selectFrom('refresh_tokens')
    .innerJoin('token_families', 'token_families.id', 'refresh_tokens.family_id')
    .selectAll('token_families')
    .select([
      'refresh_tokens.token_hash',
      'refresh_tokens.expires_at as token_expires_at',
      'refresh_tokens.created_at as token_created_at',
      'refresh_tokens.rotated_at',
      'refresh_tokens.successor_id',
      'refresh_tokens.revoked_at as token_revoked_at',
    ])
    .where('refresh_tokens.id', '=', p.id),
);

/** A refresh token row with its family, whatever its state; the caller decides what the state means. */
export async function findRefreshToken(db: Executor, token: unknown): Promise<RefreshTokenRecord | undefined> {
  if (!isToken(token, 'refreshToken')) return undefined;
  const id = tokenRowId(token);
  const row = await firstRow(selectRefreshToken(db, { id }));
  if (!row || !constantTimeEqual(row.token_hash, hashToken(token))) return undefined;
  const { token_hash, token_expires_at, token_created_at, rotated_at, successor_id, token_revoked_at, ...family } = row;
  return {
    id,
    expiresAt: token_expires_at,
    createdAt: token_created_at,
    rotatedAt: rotated_at,
    successorId: successor_id,
    revokedAt: token_revoked_at,
    family,
  };
}

/** What a retry of a rotated refresh token needs to know about the token it was rotated into. */
export interface Successor {
  /** The token response that issued it, sealed under the token it replaced; null unless it came from a rotation. */
  responseSealed: string | null;
  /** Set once the successor has itself been used. */
  rotatedAt: number | null;
}

const selectSuccessor = prepareQuery((db, p: { id: string }) => db.selectFrom('refresh_tokens').select(['response_sealed', 'rotated_at']).where('id', '=', p.id));

/** The refresh token with row id `id`, as the successor of the token a retry presents. */
export async function findSuccessor(db: Executor, id: string): Promise<Successor | undefined> {
  const row = await firstRow(selectSuccessor(db, { id }));
  return row && { responseSealed: row.response_sealed, rotatedAt: row.rotated_at };
}
