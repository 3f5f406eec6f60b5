/**
 * Personal API keys (`phx_`): a user's own long-lived credential with chosen scopes and the same
 * organization/project narrowing an OAuth grant can have. Shown once, stored as a hash.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { recordAudit, type RequestMeta } from '../core/audit.js';
import type { Narrowing } from '../core/oauth/authorizations.js';
import { formatScope, validateRequestedScope } from '../core/oauth/scopes.js';
import { generateToken, hashToken, isToken, maskToken } from '../core/crypto/token-formats.js';
import type { ApiKey, Database } from '../store/schema.js';
import { AccountError } from './accounts/users.js';

export async function createApiKey(
  db: Kysely<Database>,
  input: { userId: string; label: string; scopes: string[]; narrowing: Narrowing },
  now: number,
  meta: RequestMeta = {},
): Promise<{ key: string; record: ApiKey }> {
  const label = input.label.trim();
  if (!label || label.length > 100) throw new AccountError('Give the key a label of at most 100 characters.');
  const scopes = validateRequestedScope(input.scopes, null);
  const key = generateToken('personalApiKey');
  const record: ApiKey = {
    id: randomUUID(),
    key_hash: hashToken(key),
    user_id: input.userId,
    label,
    mask: maskToken(key),
    scope: formatScope(scopes),
    access_level: input.narrowing.accessLevel,
    organization_ids: JSON.stringify(input.narrowing.organizationIds),
    project_ids: JSON.stringify(input.narrowing.projectIds),
    created_at: now,
    last_used_at: null,
    revoked_at: null,
  };
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('api_keys').values(record).execute();
    await recordAudit(trx, { type: 'api_key.created', userId: input.userId, actor: meta.actorUserId ?? input.userId, ip: meta.ip, detail: { key_id: record.id, label, scope: record.scope } }, now);
  });
  return { key, record };
}

export async function listApiKeys(db: Kysely<Database>, userId: string): Promise<ApiKey[]> {
  return db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).orderBy('created_at', 'desc').execute();
}

/** Revokes one of a user's keys; false when the user has no such active key. */
export async function revokeApiKey(db: Kysely<Database>, input: { userId: string; id: string }, now: number, meta: RequestMeta = {}): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('api_keys')
      .set({ revoked_at: now })
      .where('id', '=', input.id)
      .where('user_id', '=', input.userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (result.numUpdatedRows !== 1n) return false;
    await recordAudit(trx, { type: 'api_key.revoked', userId: input.userId, actor: meta.actorUserId ?? input.userId, ip: meta.ip, detail: { key_id: input.id } }, now);
    return true;
  });
}

/** The active key a presented secret belongs to, if any. */
export async function findActiveApiKey(db: Kysely<Database>, key: unknown): Promise<ApiKey | undefined> {
  if (!isToken(key, 'personalApiKey')) return undefined;
  return db.selectFrom('api_keys').selectAll().where('key_hash', '=', hashToken(key)).where('revoked_at', 'is', null).executeTakeFirst();
}

/** Records use; written at most once a minute per key so reads stay cheap. */
export async function touchApiKey(db: Kysely<Database>, key: ApiKey, now: number): Promise<void> {
  if (key.last_used_at !== null && now - key.last_used_at < 60_000) return;
  await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', key.id).execute();
}
