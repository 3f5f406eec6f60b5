/** ID token signing keys, the private half sealed (core/oidc/signing-keys.ts decides their life). */
import type { Kysely } from 'kysely';
import type { Database, SigningKeysTable } from '../schema.js';

export class SigningKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  list(): Promise<SigningKeysTable[]> {
    return this.db.selectFrom('signing_keys').selectAll().execute();
  }

  /** The algorithms that have at least one key. */
  async algorithms(): Promise<Set<string>> {
    return new Set((await this.db.selectFrom('signing_keys').select('alg').distinct().execute()).map((row) => row.alg));
  }

  async insert(row: SigningKeysTable): Promise<void> {
    await this.db.insertInto('signing_keys').values(row).execute();
  }

  async delete(kids: readonly string[]): Promise<void> {
    if (kids.length) await this.db.deleteFrom('signing_keys').where('kid', 'in', kids).execute();
  }
}
