import { sql, type Kysely } from 'kysely';

/**
 * The grant types each registered client may use (RFC 7591 §2 `grant_types`), a JSON array. Clients
 * registered before keep what they had in practice, the code flow with refresh tokens.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('clients')
    .addColumn('grant_types', 'text', (column) => column.notNull().defaultTo(sql.lit('["authorization_code","refresh_token"]')))
    .execute();
}
