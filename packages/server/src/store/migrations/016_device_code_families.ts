import type { Kysely } from 'kysely';

/**
 * The token family a device code's redemption created, so that the device code presented again
 * revokes it, as a replayed authorization code does (RFC 9700 §4.5). Null until the tokens are issued.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('device_authorizations').addColumn('family_id', 'text').execute();
}
