/** What each user allowed each client: one row per user and client (core/oauth/authorizations.ts). */
import type { Kysely } from 'kysely';
import { affectedRows, prepareQuery } from '../prepared.js';
import type { Authorization, Database } from '../schema.js';

export type AuthorizationChanges = Pick<Authorization, 'scope' | 'access_level' | 'organization_ids' | 'project_ids' | 'updated_at'>;

/** An authorization with what the Connected apps page shows of its client. */
export interface AuthorizationWithClient extends Authorization {
  client_name: string | null;
  logo_uri: string | null;
  verified: 0 | 1 | null;
  /** A CIMD client has no row of its own: its cached metadata document, as JSON text. */
  cimd_document: string | null;
}

const touch = prepareQuery((db, p: { id: string; now: number; usedBefore: number }) =>
  db
    .updateTable('authorizations')
    .set({ last_used_at: p.now })
    .where('id', '=', p.id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', p.usedBefore)])),
);

export class AuthorizationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(userId: string, clientId: string): Promise<Authorization | undefined> {
    return this.db.selectFrom('authorizations').selectAll().where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
  }

  findById(id: string): Promise<Authorization | undefined> {
    return this.db.selectFrom('authorizations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(row: Authorization): Promise<void> {
    await this.db.insertInto('authorizations').values(row).execute();
  }

  async update(id: string, changes: AuthorizationChanges): Promise<void> {
    await this.db.updateTable('authorizations').set(changes).where('id', '=', id).execute();
  }

  /** Records a use, unless one was recorded since `usedBefore`; true when the row changed. */
  async touch(id: string, now: number, usedBefore: number): Promise<boolean> {
    return (await affectedRows(touch(this.db, { id, now, usedBefore }))) > 0;
  }

  /** Deletes a user's authorization of a client; true when there was one. */
  async delete(userId: string, clientId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('authorizations').where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** Deletes every user's authorization of a client; returns how many. */
  async deleteAllOf(clientId: string): Promise<number> {
    return Number((await this.db.deleteFrom('authorizations').where('client_id', '=', clientId).executeTakeFirst()).numDeletedRows);
  }

  /** The distinct scope strings among a client's authorizations. */
  async scopesOf(clientId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('authorizations').select('scope').distinct().where('client_id', '=', clientId).execute();
    return rows.map((row) => row.scope);
  }

  /** Gives a client's authorizations that hold `scope` another one, or deletes them when it is empty; returns how many. */
  async rescope(clientId: string, scope: string, replacement: string, now: number): Promise<number> {
    if (replacement === '') {
      return Number((await this.db.deleteFrom('authorizations').where('client_id', '=', clientId).where('scope', '=', scope).executeTakeFirst()).numDeletedRows);
    }
    const result = await this.db.updateTable('authorizations').set({ scope: replacement, updated_at: now }).where('client_id', '=', clientId).where('scope', '=', scope).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** A user's authorizations, newest first, with the names and logos of their clients. */
  listForUser(userId: string): Promise<AuthorizationWithClient[]> {
    return this.db
      .selectFrom('authorizations')
      .leftJoin('clients', 'clients.id', 'authorizations.client_id')
      .leftJoin('cimd_documents', 'cimd_documents.client_id', 'authorizations.client_id')
      .selectAll('authorizations')
      .select(['clients.name as client_name', 'clients.logo_uri', 'clients.verified', 'cimd_documents.document as cimd_document'])
      .where('authorizations.user_id', '=', userId)
      .orderBy('authorizations.created_at', 'desc')
      .execute();
  }
}
