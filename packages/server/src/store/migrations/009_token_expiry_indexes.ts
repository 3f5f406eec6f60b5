import type { Kysely } from 'kysely';

/**
 * Lets the purge find expired access and refresh tokens without reading the whole table. Expiry
 * times grow with issue time, so new entries land at the index's end.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('access_tokens_expires').on('access_tokens').column('expires_at').execute();
  await db.schema.createIndex('refresh_tokens_expires').on('refresh_tokens').column('expires_at').execute();
}
