/** Client ID Metadata Documents: the validated documents every instance shares, and the blocklist. */
import type { Kysely } from 'kysely';
import type { CimdBlocklistTable, CimdDocumentsTable, Database } from '../schema.js';

export class CimdRepository {
  constructor(private readonly db: Kysely<Database>) {}

  findDocument(clientId: string): Promise<CimdDocumentsTable | undefined> {
    return this.db.selectFrom('cimd_documents').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  }

  async storeDocument(row: CimdDocumentsTable): Promise<void> {
    const { client_id, ...values } = row;
    await this.db.insertInto('cimd_documents').values(row).onConflict((conflict) => conflict.column('client_id').doUpdateSet(values)).execute();
  }

  async forgetDocument(clientId: string): Promise<void> {
    await this.db.deleteFrom('cimd_documents').where('client_id', '=', clientId).execute();
  }

  /** True when any of the patterns is on the blocklist. */
  async anyBlocked(patterns: readonly string[]): Promise<boolean> {
    const row = await this.db.selectFrom('cimd_blocklist').select('pattern').where('pattern', 'in', patterns).executeTakeFirst();
    return row !== undefined;
  }

  async block(pattern: string, reason: string | null, now: number): Promise<void> {
    await this.db.insertInto('cimd_blocklist').values({ pattern, reason, created_at: now }).onConflict((conflict) => conflict.column('pattern').doUpdateSet({ reason })).execute();
  }

  /** True when the pattern was on the list. */
  async unblock(pattern: string): Promise<boolean> {
    const result = await this.db.deleteFrom('cimd_blocklist').where('pattern', '=', pattern).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  listBlocked(): Promise<CimdBlocklistTable[]> {
    return this.db.selectFrom('cimd_blocklist').selectAll().orderBy('pattern').execute();
  }
}
