/** Clients with a row of their own (CLI-registered, developer apps, dynamic registrations) and app logos. */
import type { Kysely } from 'kysely';
import { firstRow, prepareQuery } from '../prepared.js';
import type { Client, ClientLogosTable, ClientUpdate, Database } from '../schema.js';

/** An app with the name of the organization that owns it. */
export type AppRow = Client & { organization_name: string };

const selectClient = prepareQuery((db, p: { clientId: string }) => db.selectFrom('clients').selectAll().where('id', '=', p.clientId));

export class ClientRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(clientId: string): Promise<Client | undefined> {
    return firstRow(selectClient(this.db, { clientId }));
  }

  async insert(row: Client): Promise<void> {
    await this.db.insertInto('clients').values(row).execute();
  }

  async update(clientId: string, changes: ClientUpdate): Promise<void> {
    await this.db.updateTable('clients').set(changes).where('id', '=', clientId).execute();
  }

  /** Replaces a confidential client's secret hash; false when there is no such confidential client. */
  async replaceSecret(clientId: string, secretHash: string, now: number): Promise<boolean> {
    const result = await this.db.updateTable('clients').set({ secret_hash: secretHash, updated_at: now }).where('id', '=', clientId).where('is_public', '=', 0).executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /** Every client with a row, oldest first. */
  list(): Promise<Client[]> {
    return this.db.selectFrom('clients').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  /** Sets a client's Verified mark; the changed row, or undefined when there is no such client. */
  setVerified(clientId: string, verified: boolean, now: number): Promise<Client | undefined> {
    return this.db.updateTable('clients').set({ verified: verified ? 1 : 0, updated_at: now }).where('id', '=', clientId).returningAll().executeTakeFirst();
  }

  /** Deletes the row (its logo goes with it, by cascade). */
  async delete(clientId: string): Promise<void> {
    await this.db.deleteFrom('clients').where('id', '=', clientId).execute();
  }

  /** Names of the clients with rows among `clientIds`. */
  async names(clientIds: readonly string[]): Promise<Map<string, string>> {
    if (clientIds.length === 0) return new Map();
    const rows = await this.db.selectFrom('clients').select(['id', 'name']).where('id', 'in', clientIds).execute();
    return new Map(rows.map((row) => [row.id, row.name]));
  }

  /** Developer apps of the organizations where the user is an owner or admin, by organization then name. */
  appsManagedBy(userId: string): Promise<AppRow[]> {
    return this.managedApps(userId).orderBy('organizations.name').orderBy('clients.name').execute();
  }

  /** One of those apps; undefined when the user may not manage it, or it does not exist. */
  appManagedBy(userId: string, clientId: string): Promise<AppRow | undefined> {
    return this.managedApps(userId).where('clients.id', '=', clientId).executeTakeFirst();
  }

  private managedApps(userId: string) {
    return this.db
      .selectFrom('clients')
      .innerJoin('organizations', 'organizations.id', 'clients.organization_id')
      .innerJoin('memberships', 'memberships.organization_id', 'clients.organization_id')
      .selectAll('clients')
      .select('organizations.name as organization_name')
      .where('clients.kind', '=', 'app')
      .where('memberships.user_id', '=', userId)
      .where('memberships.role', 'in', ['owner', 'admin']);
  }

  findLogo(clientId: string): Promise<ClientLogosTable | undefined> {
    return this.db.selectFrom('client_logos').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  }

  /** Replaces an app's uploaded logo; `null` removes it. */
  async replaceLogo(clientId: string, logo: Omit<ClientLogosTable, 'client_id'> | null): Promise<void> {
    await this.db.deleteFrom('client_logos').where('client_id', '=', clientId).execute();
    if (logo) await this.db.insertInto('client_logos').values({ client_id: clientId, ...logo }).execute();
  }
}
