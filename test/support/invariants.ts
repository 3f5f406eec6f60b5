/**
 * What "nothing half-written" means for the token tables, checked on a database after a crash, an
 * outage or a failed commit: no rotation without its stored successor and sealed response, no
 * token without its family, no code consumed without the family it issued, no family without its
 * first tokens.
 */
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import type { Database } from '../../packages/server/src/store/schema.js';

export async function assertNothingHalfWritten(db: Kysely<Database>): Promise<void> {
  const halfRotated = await db
    .selectFrom('refresh_tokens as retired')
    .leftJoin('refresh_tokens as successor', 'successor.id', 'retired.successor_id')
    .select('retired.id')
    .where('retired.rotated_at', 'is not', null)
    .where((eb) => eb.or([eb('successor.id', 'is', null), eb('successor.response_sealed', 'is', null)]))
    .execute();
  assert.equal(halfRotated.length, 0, 'refresh tokens rotated without a stored successor and its sealed response');
  const orphanAccess = await db.selectFrom('access_tokens').leftJoin('token_families', 'token_families.id', 'access_tokens.family_id').select('access_tokens.token_hash').where('token_families.id', 'is', null).execute();
  assert.equal(orphanAccess.length, 0, 'access tokens without their family');
  const orphanRefresh = await db.selectFrom('refresh_tokens').leftJoin('token_families', 'token_families.id', 'refresh_tokens.family_id').select('refresh_tokens.token_hash').where('token_families.id', 'is', null).execute();
  assert.equal(orphanRefresh.length, 0, 'refresh tokens without their family');
  const consumedWithoutFamily = await db.selectFrom('authorization_codes').leftJoin('token_families', 'token_families.id', 'authorization_codes.family_id').select('code_hash').where('consumed_at', 'is not', null).where('token_families.id', 'is', null).execute();
  assert.equal(consumedWithoutFamily.length, 0, 'codes consumed without issuing their tokens');
  const familiesMissingTokens = await db
    .selectFrom('token_families')
    .select('id')
    .where((eb) => eb.or([eb.not(eb.exists(eb.selectFrom('access_tokens').select('family_id').whereRef('access_tokens.family_id', '=', 'token_families.id'))), eb.not(eb.exists(eb.selectFrom('refresh_tokens').select('family_id').whereRef('refresh_tokens.family_id', '=', 'token_families.id')))]))
    .execute();
  assert.equal(familiesMissingTokens.length, 0, 'token families without an access or a refresh token');
}
