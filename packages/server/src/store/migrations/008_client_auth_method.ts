import type { Kysely } from 'kysely';

/**
 * The token endpoint authentication method a dynamically registered client chose (RFC 7591 §2),
 * held to from then on. Null for clients registered otherwise: a confidential one may use either
 * secret method.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').addColumn('token_endpoint_auth_method', 'text').execute();
}
