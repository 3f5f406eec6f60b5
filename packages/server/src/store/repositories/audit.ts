/** The audit trail: rows written in the transaction of the change they describe (core/audit.ts). */
import type { Kysely } from 'kysely';
import { prepareQuery } from '../prepared.js';
import type { AuditEventsTable, Database } from '../schema.js';

export interface AuditFilter {
  userId?: string | undefined;
  clientId?: string | undefined;
  type?: string | undefined;
  since?: number | undefined;
  limit: number;
}

const insertAuditEvent = prepareQuery((db, row: AuditEventsTable) =>
  db.insertInto('audit_events').values({ id: row.id, at: row.at, type: row.type, user_id: row.user_id, actor: row.actor, client_id: row.client_id, ip: row.ip, detail: row.detail }),
);

export class AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: AuditEventsTable): Promise<void> {
    await insertAuditEvent(this.db, row);
  }

  /** Newest first. */
  list(filter: AuditFilter): Promise<AuditEventsTable[]> {
    let select = this.db.selectFrom('audit_events').selectAll().orderBy('at', 'desc').orderBy('id').limit(filter.limit);
    if (filter.userId) select = select.where('user_id', '=', filter.userId);
    if (filter.clientId) select = select.where('client_id', '=', filter.clientId);
    if (filter.type) select = select.where('type', '=', filter.type);
    if (filter.since !== undefined) select = select.where('at', '>=', filter.since);
    return select.execute();
  }
}
