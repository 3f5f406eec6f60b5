import type { Kysely } from 'kysely';

/**
 * A user's consent record is an "authorization"; "grant" is left to grant types (the flows of the
 * token endpoint). The table and the columns that point at it are renamed; data and constraints
 * stay as they are (the unique constraint keeps its name, `grants_user_client`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('grants').renameTo('authorizations').execute();
  await db.schema.alterTable('authorization_codes').renameColumn('grant_id', 'authorization_id').execute();
  await db.schema.alterTable('token_families').renameColumn('grant_id', 'authorization_id').execute();
  await db.schema.dropIndex('grants_client').execute();
  await db.schema.createIndex('authorizations_client').on('authorizations').column('client_id').execute();
}
