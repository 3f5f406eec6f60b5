import type { Kysely } from 'kysely';

/** Client ID Metadata Documents: the shared cache of fetched documents, and the admin's blocklist. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cimd_documents')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    /** The validated document, as JSON text. */
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('fetched_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('cimd_blocklist')
    /** An exact client id URL, or a domain (which covers its subdomains). */
    .addColumn('pattern', 'text', (c) => c.primaryKey())
    .addColumn('reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}
