import type { Kysely } from 'kysely';

/**
 * Account security (issue 15): sign-ups that wait for the address to be confirmed, password reset
 * links, two-factor sign-in (TOTP secrets sealed at rest, hashed recovery codes, the pending state
 * between password and code), how each session was authenticated (OIDC `amr`) carried through
 * codes to token families with the `acr` a request asked for, and organizations that require
 * two-factor sign-in for apps reading their data.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('signup_requests')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();

  await db.schema
    .createTable('password_resets')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('password_resets_user').on('password_resets').column('user_id').execute();

  await db.schema
    .createTable('two_factor')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    /** The TOTP secret (base32), sealed under TESSERA_SECRET_KEY. */
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    /** Null while enrolment waits for its first code. */
    .addColumn('confirmed_at', 'bigint')
    /** The last TOTP time step accepted: a code is never accepted twice (RFC 6238 §5.2). */
    .addColumn('last_used_step', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
    .execute();

  await db.schema
    .createTable('pending_sign_ins')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('sessions').addColumn('amr', 'text', (c) => c.notNull().defaultTo('pwd')).execute();
  for (const table of ['authorization_codes', 'token_families']) {
    await db.schema.alterTable(table).addColumn('amr', 'text').execute();
    await db.schema.alterTable(table).addColumn('acr', 'text').execute();
  }
  await db.schema.alterTable('organizations').addColumn('require_two_factor', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}
