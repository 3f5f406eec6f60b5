/**
 * Outgoing mail. Messages are written to the outbox table in the same transaction as the change
 * they announce; a delivery worker (or, in development, `tessera mail list`) reads them from there.
 * Nothing is written to the log: a message may carry a one-time link.
 */
import { randomUUID } from 'node:crypto';
import type { Repositories } from '../store/index.js';
import type { OutboxTable } from '../store/schema.js';

export interface Mail {
  to: string;
  subject: string;
  body: string;
}

/** Writes a message to the outbox through `tx`, the repositories of the transaction that makes the change. */
export async function sendMail(tx: Repositories, mail: Mail, now: number): Promise<void> {
  await tx.outbox.insert({ id: randomUUID(), to_address: mail.to, subject: mail.subject, body: mail.body, created_at: now, sent_at: null });
}

/** Newest first. */
export function listMail(store: Repositories, filter: { to?: string; limit?: number } = {}): Promise<OutboxTable[]> {
  return store.outbox.list({ to: filter.to, limit: filter.limit ?? 50 });
}
