/**
 * Outgoing mail. Messages are written to the outbox table in the same transaction as the change
 * they announce; a delivery worker (or, in development, `tessera mail list`) reads them from there.
 * Nothing is written to the log: a message may carry a one-time link.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, OutboxTable } from '../store/schema.js';

export interface Mail {
  to: string;
  subject: string;
  body: string;
}

export async function sendMail(db: Kysely<Database>, mail: Mail, now: number): Promise<void> {
  await db.insertInto('outbox').values({ id: randomUUID(), to_address: mail.to, subject: mail.subject, body: mail.body, created_at: now, sent_at: null }).execute();
}

export async function listMail(db: Kysely<Database>, filter: { to?: string; limit?: number } = {}): Promise<OutboxTable[]> {
  let query = db.selectFrom('outbox').selectAll().orderBy('created_at', 'desc').limit(filter.limit ?? 50);
  if (filter.to) query = query.where('to_address', '=', filter.to);
  return query.execute();
}
