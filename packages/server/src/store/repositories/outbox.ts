/** Outgoing mail, written in the transaction of the change it announces (platform/mail.ts). */
import type { Kysely } from 'kysely';
import type { Database, OutboxTable } from '../schema.js';

export class OutboxRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: OutboxTable): Promise<void> {
    await this.db.insertInto('outbox').values(row).execute();
  }

  /** Newest first. */
  list(filter: { to?: string | undefined; limit: number }): Promise<OutboxTable[]> {
    let query = this.db.selectFrom('outbox').selectAll().orderBy('created_at', 'desc').limit(filter.limit);
    if (filter.to) query = query.where('to_address', '=', filter.to);
    return query.execute();
  }
}
