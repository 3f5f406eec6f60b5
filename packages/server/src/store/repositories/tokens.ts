/**
 * Token families and what they hold: access tokens, rotating refresh tokens, and the authorization
 * code that starts a family. Rows are found by id (a token's locator) or hash; the protocol checks
 * the hash in constant time and decides what a row's state means (core/oauth/tokens.ts).
 *
 * Tokens are followed to their family, never the other way, so the token tables carry no family
 * index to update on every insert; revoking a family is one update of its row.
 */
import type { Kysely } from 'kysely';
import { affectedRows, firstRow, prepareQuery } from '../prepared.js';
import type { AccessTokensTable, AuthorizationCode, Database, RefreshTokensTable, TokenFamily } from '../schema.js';

export type NewAccessToken = Pick<AccessTokensTable, 'id' | 'token_hash' | 'family_id' | 'scope' | 'expires_at' | 'created_at'>;
export type NewRefreshToken = Pick<RefreshTokensTable, 'id' | 'token_hash' | 'family_id' | 'expires_at' | 'created_at' | 'response_sealed'>;

/** An access token's row with its family's. */
export interface AccessTokenRow {
  token_hash: string;
  scope: string;
  expires_at: number;
  created_at: number;
  revoked_at: number | null;
  family: TokenFamily;
}

/** A refresh token's row with its family's. */
export interface RefreshTokenRow {
  token_hash: string;
  expires_at: number;
  created_at: number;
  rotated_at: number | null;
  successor_id: string | null;
  revoked_at: number | null;
  family: TokenFamily;
}

export type NarrowingColumns = Pick<TokenFamily, 'id' | 'access_level' | 'organization_ids' | 'project_ids'>;

const insertAccessToken = prepareQuery((db, row: NewAccessToken) =>
  db.insertInto('access_tokens').values({ id: row.id, token_hash: row.token_hash, family_id: row.family_id, scope: row.scope, expires_at: row.expires_at, created_at: row.created_at }),
);
const insertRefreshToken = prepareQuery((db, row: NewRefreshToken) =>
  db.insertInto('refresh_tokens').values({
    id: row.id,
    token_hash: row.token_hash,
    family_id: row.family_id,
    expires_at: row.expires_at,
    created_at: row.created_at,
    response_sealed: row.response_sealed,
  }),
);
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
/** Of any number of concurrent claims on one token, exactly one changes the row. */
const claimRotation = prepareQuery((db, p: { id: string; now: number; successorId: string }) =>
  db.updateTable('refresh_tokens').set({ rotated_at: p.now, successor_id: p.successorId }).where('id', '=', p.id).where('rotated_at', 'is', null),
);
const selectSuccessor = prepareQuery((db, p: { id: string }) => db.selectFrom('refresh_tokens').select(['response_sealed', 'rotated_at']).where('id', '=', p.id));
const revokeFamilyRow = prepareQuery((db, p: { familyId: string; reason: string; now: number }) =>
  db.updateTable('token_families').set({ revoked_at: p.now, revoked_reason: p.reason }).where('id', '=', p.familyId).where('revoked_at', 'is', null),
);

export class TokenRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async createFamily(family: TokenFamily): Promise<void> {
    await this.db.insertInto('token_families').values(family).execute();
  }

  /** True when this call revoked it (false: unknown, or revoked already). */
  async revokeFamily(familyId: string, reason: string, now: number): Promise<boolean> {
    return (await affectedRows(revokeFamilyRow(this.db, { familyId, reason, now }))) > 0;
  }

  /** Revokes the families named; returns how many were live. */
  async revokeFamilies(familyIds: readonly string[], reason: string, now: number): Promise<number> {
    if (familyIds.length === 0) return 0;
    const result = await this.db.updateTable('token_families').set({ revoked_at: now, revoked_reason: reason }).where('id', 'in', familyIds).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Revokes every live family of a client, or of one of its users; returns how many. */
  async revokeFamiliesOf(filter: { clientId: string; userId?: string }, reason: string, now: number): Promise<number> {
    let query = this.db.updateTable('token_families').set({ revoked_at: now, revoked_reason: reason }).where('client_id', '=', filter.clientId).where('revoked_at', 'is', null);
    if (filter.userId) query = query.where('user_id', '=', filter.userId);
    return Number((await query.executeTakeFirst()).numUpdatedRows);
  }

  /** The narrowing of every live family of a user and client. */
  liveFamilyNarrowings(userId: string, clientId: string): Promise<NarrowingColumns[]> {
    return this.db
      .selectFrom('token_families')
      .select(['id', 'access_level', 'organization_ids', 'project_ids'])
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** The distinct scope strings among a client's live families. */
  async liveFamilyScopes(clientId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('token_families').select('scope').distinct().where('client_id', '=', clientId).where('revoked_at', 'is', null).execute();
    return rows.map((row) => row.scope);
  }

  /** Gives a client's live families that hold `scope` another one; returns how many. */
  async rescopeLiveFamilies(clientId: string, scope: string, replacement: string): Promise<number> {
    const result = await this.db.updateTable('token_families').set({ scope: replacement }).where('client_id', '=', clientId).where('revoked_at', 'is', null).where('scope', '=', scope).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Revokes a client's live families that hold `scope`; returns how many. */
  async revokeLiveFamiliesWithScope(clientId: string, scope: string, reason: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable('token_families')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .where('scope', '=', scope)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async insertAccessToken(row: NewAccessToken): Promise<void> {
    await insertAccessToken(this.db, row);
  }

  async insertRefreshToken(row: NewRefreshToken): Promise<void> {
    await insertRefreshToken(this.db, row);
  }

  async findAccessToken(id: string): Promise<AccessTokenRow | undefined> {
    const row = await firstRow(selectAccessToken(this.db, { id }));
    if (!row) return undefined;
    const { token_hash, token_scope, token_expires_at, token_created_at, token_revoked_at, ...family } = row;
    return { token_hash, scope: token_scope, expires_at: token_expires_at, created_at: token_created_at, revoked_at: token_revoked_at, family };
  }

  async revokeAccessToken(id: string, now: number): Promise<void> {
    await this.db.updateTable('access_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  async findRefreshToken(id: string): Promise<RefreshTokenRow | undefined> {
    const row = await firstRow(selectRefreshToken(this.db, { id }));
    if (!row) return undefined;
    const { token_hash, token_expires_at, token_created_at, rotated_at, successor_id, token_revoked_at, ...family } = row;
    return { token_hash, expires_at: token_expires_at, created_at: token_created_at, rotated_at, successor_id, revoked_at: token_revoked_at, family };
  }

  /** Marks a refresh token rotated into `successorId`; false when another request claimed it first. */
  async claimRotation(id: string, successorId: string, now: number): Promise<boolean> {
    return (await affectedRows(claimRotation(this.db, { id, now, successorId }))) === 1;
  }

  /** The sealed response and rotation time of the refresh token with row id `id`. */
  async findSuccessor(id: string): Promise<Pick<RefreshTokensTable, 'response_sealed' | 'rotated_at'> | undefined> {
    return firstRow(selectSuccessor(this.db, { id }));
  }

  async insertCode(code: AuthorizationCode): Promise<void> {
    await this.db.insertInto('authorization_codes').values(code).execute();
  }

  findCode(codeHash: string): Promise<AuthorizationCode | undefined> {
    return this.db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
  }

  /** Marks a code used; of any number of concurrent redemptions exactly one gets true. */
  async claimCode(codeHash: string, now: number): Promise<boolean> {
    const claimed = await this.db.updateTable('authorization_codes').set({ consumed_at: now }).where('code_hash', '=', codeHash).where('consumed_at', 'is', null).executeTakeFirst();
    return claimed.numUpdatedRows === 1n;
  }

  /** Deletes every authorization code of a client (its deletion). */
  async deleteCodesOf(clientId: string): Promise<void> {
    await this.db.deleteFrom('authorization_codes').where('client_id', '=', clientId).execute();
  }
}
