import type { Kysely } from 'kysely';

/** OpenID Connect: signing keys, email verification links, and a client's ID token algorithm. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    /** The private JWK, sealed with a key derived from TESSERA_SECRET_KEY. */
    .addColumn('private_jwk_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    /** Published in the JWKS from creation; used for signing from this moment on. */
    .addColumn('signs_from', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('signing_keys_alg').on('signing_keys').columns(['alg', 'signs_from']).execute();

  await db.schema
    .createTable('email_verifications')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('email_verifications_user').on('email_verifications').column('user_id').execute();

  await db.schema.alterTable('clients').addColumn('id_token_signed_response_alg', 'text').execute();
}
