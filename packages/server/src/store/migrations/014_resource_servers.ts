import type { Kysely } from 'kysely';

/**
 * Registered resource servers (issue 17): protected resources (RFC 8707 resource indicators) the
 * operator registers, each with introspection credentials of its own (the secret stored hashed),
 * and the format of the access tokens issued for it (opaque `pha_`, or RFC 9068 JWTs).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('resource_servers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** The resource indicator tokens for it are bound to (their audience). */
    .addColumn('uri', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    /** The client_id it authenticates with at the introspection endpoint. */
    .addColumn('client_id', 'text', (c) => c.notNull().unique())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    /** `opaque` or `jwt`. */
    .addColumn('token_format', 'text', (c) => c.notNull())
    /** Seconds; null for the default of its format. */
    .addColumn('access_token_ttl', 'integer')
    /** 1: its tokens are also accepted by the platform API (a first-party service calling the API for the user). */
    .addColumn('platform_api_access', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('secret_rotated_at', 'bigint')
    .execute();
}
