import type { Kysely } from 'kysely';

/** Logos uploaded for self-serve apps, kept in the database so every instance can serve them. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('client_logos')
    .addColumn('client_id', 'text', (c) => c.primaryKey().references('clients.id').onDelete('cascade'))
    /** Detected from the image's magic bytes: image/png, image/jpeg or image/webp. */
    .addColumn('content_type', 'text', (c) => c.notNull())
    /** The image as base64 text: one column type that SQLite and PostgreSQL treat alike. */
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
