import type { Kysely } from 'kysely';

/**
 * The device authorization grant (RFC 8628): one row per device authorization request, from the
 * device's request until its device code is redeemed, denied or expired. Both codes are stored
 * hashed: the device code (256 random bits) by SHA-256, the short user code by HMAC under
 * TESSERA_SECRET_KEY, so a copy of the database cannot be searched for live user codes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('device_authorizations')
    .addColumn('device_code_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_code_hash', 'text', (c) => c.notNull().unique())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('resource', 'text')
    /** pending, approved or denied. */
    .addColumn('status', 'text', (c) => c.notNull())
    /** Set when the user decides: who, under which authorization, and how they signed in. */
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('authorization_id', 'text')
    .addColumn('auth_time', 'bigint')
    .addColumn('amr', 'text')
    /** The polling interval in seconds; each slow_down adds five (RFC 8628 §3.5). */
    .addColumn('interval_seconds', 'integer', (c) => c.notNull())
    .addColumn('last_polled_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .addColumn('consumed_at', 'bigint')
    .execute();
  await db.schema.createIndex('device_authorizations_expires').on('device_authorizations').column('expires_at').execute();
}
