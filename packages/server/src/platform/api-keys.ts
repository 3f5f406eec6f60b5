/**
 * Personal API keys (`phx_`): a user's own long-lived credential with chosen scopes and the same
 * organization/project narrowing an OAuth grant can have. Shown once, stored as a hash.
 */
import { randomUUID } from 'node:crypto';
import { recordAudit, type RequestMeta } from '../core/audit.js';
import { generateToken, hashToken, isToken, maskToken } from '../core/crypto/token-formats.js';
import { narrowingColumns, type Narrowing } from '../core/oauth/narrowing.js';
import { formatScope, validateRequestedScope } from '../core/oauth/scopes.js';
import type { Repositories, Store } from '../store/index.js';
import type { ApiKey } from '../store/schema.js';
import { AccountError } from './accounts/users.js';
import { platformScopes } from './scopes.js';

export async function createApiKey(
  store: Store,
  input: { userId: string; label: string; scopes: string[]; narrowing: Narrowing },
  now: number,
  meta: RequestMeta = {},
): Promise<{ key: string; record: ApiKey }> {
  const label = input.label.trim();
  if (!label || label.length > 100) throw new AccountError('Give the key a label of at most 100 characters.');
  const scopes = validateRequestedScope(input.scopes, null, platformScopes);
  const key = generateToken('personalApiKey');
  const record: ApiKey = {
    id: randomUUID(),
    key_hash: hashToken(key),
    user_id: input.userId,
    label,
    mask: maskToken(key),
    scope: formatScope(scopes),
    ...narrowingColumns(input.narrowing),
    created_at: now,
    last_used_at: null,
    revoked_at: null,
  };
  await store.transaction(async (tx) => {
    await tx.apiKeys.insert(record);
    await recordAudit(tx, { type: 'api_key.created', userId: input.userId, actor: meta.actorUserId ?? input.userId, ip: meta.ip, detail: { key_id: record.id, label, scope: record.scope } }, now);
  });
  return { key, record };
}

export function listApiKeys(store: Repositories, userId: string): Promise<ApiKey[]> {
  return store.apiKeys.listActive(userId);
}

/** Revokes one of a user's keys; false when the user has no such active key. */
export async function revokeApiKey(store: Store, input: { userId: string; id: string }, now: number, meta: RequestMeta = {}): Promise<boolean> {
  return store.transaction(async (tx) => {
    if (!(await tx.apiKeys.revoke(input.id, now, input.userId))) return false;
    await recordAudit(tx, { type: 'api_key.revoked', userId: input.userId, actor: meta.actorUserId ?? input.userId, ip: meta.ip, detail: { key_id: input.id } }, now);
    return true;
  });
}

/** The active key a presented secret belongs to, if any. */
export async function findActiveApiKey(store: Repositories, key: unknown): Promise<ApiKey | undefined> {
  if (!isToken(key, 'personalApiKey')) return undefined;
  const found = await store.apiKeys.findByHash(hashToken(key));
  return found?.revoked_at === null ? found : undefined;
}

/** Records use; written at most once a minute per key so reads stay cheap. */
export async function touchApiKey(store: Repositories, key: ApiKey, now: number): Promise<void> {
  if (key.last_used_at !== null && now - key.last_used_at < 60_000) return;
  await store.apiKeys.touch(key.id, now);
}
