import { sql, type Kysely } from 'kysely';

/**
 * Access and refresh token rows are keyed by the token's locator, an id that grows with issue time
 * (see oauth/tokens.ts), instead of by the token's hash; the hash stays, to check the token
 * against. New tokens are appended at the end of each table rather than at random places in an
 * index of hashes, and the indexes on family_id go: tokens are followed to their family, never
 * the other way (revoking a family is one update of the family row).
 *
 * A rotated refresh token now names its successor, and the successor row holds the token response
 * sealed under the token it replaced, so that a rotation writes small rows once instead of growing
 * the old one. Rows from before keep working: their id is their hash, which is what the token
 * store looks them up by. A token rotated before this migration has no successor to replay, so a
 * retry of it within the grace window counts as reuse.
 *
 * SQLite cannot change a table's primary key in place, so both tables are rebuilt and copied, in
 * one transaction (PostgreSQL's migrations already run in one).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const atomically = (work: (trx: Kysely<unknown>) => Promise<void>) => (db.isTransaction ? work(db) : db.transaction().execute(work));
  await atomically(async (trx) => {
    await trx.schema
      .createTable('access_tokens_located')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull())
      .addColumn('family_id', 'text', (c) => c.notNull().references('token_families.id').onDelete('cascade'))
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .execute();
    await sql`insert into access_tokens_located (id, token_hash, family_id, scope, expires_at, created_at, revoked_at)
      select token_hash, token_hash, family_id, scope, expires_at, created_at, revoked_at from access_tokens`.execute(trx);

    await trx.schema
      .createTable('refresh_tokens_located')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull())
      .addColumn('family_id', 'text', (c) => c.notNull().references('token_families.id').onDelete('cascade'))
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('rotated_at', 'bigint')
      .addColumn('successor_id', 'text')
      .addColumn('response_sealed', 'text')
      .addColumn('revoked_at', 'bigint')
      .execute();
    await sql`insert into refresh_tokens_located (id, token_hash, family_id, expires_at, created_at, rotated_at, revoked_at)
      select token_hash, token_hash, family_id, expires_at, created_at, rotated_at, revoked_at from refresh_tokens`.execute(trx);

    for (const table of ['access_tokens', 'refresh_tokens']) {
      await trx.schema.dropTable(table).execute();
      await trx.schema.alterTable(`${table}_located`).renameTo(table).execute();
      await trx.schema.createIndex(`${table}_expires`).on(table).column('expires_at').execute();
    }
  });
}
