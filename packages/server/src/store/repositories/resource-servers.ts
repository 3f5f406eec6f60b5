/** Registered resource servers (core/resources/ decides what they mean). */
import type { Kysely } from 'kysely';
import type { Database, ResourceServer } from '../schema.js';

export class ResourceServerRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ResourceServer): Promise<void> {
    await this.db.insertInto('resource_servers').values(row).execute();
  }

  list(): Promise<ResourceServer[]> {
    return this.db.selectFrom('resource_servers').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  findByUri(uri: string): Promise<ResourceServer | undefined> {
    return this.db.selectFrom('resource_servers').selectAll().where('uri', '=', uri).executeTakeFirst();
  }

  findByClientId(clientId: string): Promise<ResourceServer | undefined> {
    return this.db.selectFrom('resource_servers').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  }

  /** By its id, its client_id or its URI: what an operator types. */
  findByReference(reference: string): Promise<ResourceServer | undefined> {
    return this.db
      .selectFrom('resource_servers')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', reference), eb('client_id', '=', reference), eb('uri', '=', reference)]))
      .executeTakeFirst();
  }

  async replaceSecret(id: string, secretHash: string, now: number): Promise<void> {
    await this.db.updateTable('resource_servers').set({ secret_hash: secretHash, secret_rotated_at: now }).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('resource_servers').where('id', '=', id).execute();
  }

  /** Revokes every live token family bound to the resource; returns how many. */
  async revokeFamiliesFor(uri: string, reason: string, now: number): Promise<number> {
    const result = await this.db.updateTable('token_families').set({ revoked_at: now, revoked_reason: reason }).where('resource', '=', uri).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
