/** Personal API keys (`phx_`), stored as hashes (platform/api-keys.ts). */
import type { Kysely } from 'kysely';
import type { ApiKey, Database } from '../schema.js';

export class ApiKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(key: ApiKey): Promise<void> {
    await this.db.insertInto('api_keys').values(key).execute();
  }

  /** A user's unrevoked keys, newest first. */
  listActive(userId: string): Promise<ApiKey[]> {
    return this.db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).orderBy('created_at', 'desc').execute();
  }

  /** By hash, revoked or not. */
  findByHash(keyHash: string): Promise<ApiKey | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
  }

  /** Revokes an unrevoked key (of `userId`, when given); true when this call revoked it. */
  async revoke(id: string, now: number, userId?: string): Promise<boolean> {
    let query = this.db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null);
    if (userId !== undefined) query = query.where('user_id', '=', userId);
    return (await query.executeTakeFirst()).numUpdatedRows === 1n;
  }

  async touch(id: string, now: number): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
  }
}
