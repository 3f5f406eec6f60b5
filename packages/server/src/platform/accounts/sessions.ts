/**
 * Browser sessions. The cookie holds a random token; the database holds only its hash. A new
 * session (new id) is created at every sign-in, so a session id fixed before login is worthless.
 * Each session records how the user proved who they are (RFC 8176 `amr` values): `pwd`, plus `otp`
 * after a two-factor sign-in.
 */
import { generateToken, hashToken, isToken } from '../../core/crypto/token-formats.js';
import { parseAmr, type AuthenticationMethod } from '../../core/oidc/acr.js';
import { recordAudit, type RequestMeta } from '../../core/audit.js';
import type { Repositories, Store } from '../../store/index.js';
import type { User } from '../../store/schema.js';

export interface BrowserSession {
  idHash: string;
  user: User;
  authTime: number;
  amr: AuthenticationMethod[];
  createdAt: number;
}

export async function createSession(store: Repositories, userId: string, amr: AuthenticationMethod[], now: number, ttlSeconds: number): Promise<string> {
  const token = generateToken('session');
  await store.accounts.insertSession({ id_hash: hashToken(token), user_id: userId, auth_time: now, amr: amr.join(' '), created_at: now, expires_at: now + ttlSeconds * 1000 });
  return token;
}

/**
 * Signs a user in: a new session and a `sign_in.succeeded` event (IP, browser, factors) for the
 * user's Recent activity, in one transaction. The session's token, for the cookie.
 */
export function startSession(store: Store, userId: string, amr: AuthenticationMethod[], now: number, ttlSeconds: number, meta: RequestMeta): Promise<string> {
  return store.transaction(async (tx) => {
    const token = await createSession(tx, userId, amr, now, ttlSeconds);
    const detail = { amr, two_factor: amr.includes('otp'), ...(meta.userAgent ? { user_agent: meta.userAgent } : {}) };
    await recordAudit(tx, { type: 'sign_in.succeeded', userId, actor: userId, ip: meta.ip, detail }, now);
    return token;
  });
}

export async function findSession(store: Repositories, token: string | undefined, now: number): Promise<BrowserSession | undefined> {
  if (!isToken(token, 'session')) return undefined;
  const row = await store.accounts.findSession(hashToken(token));
  if (!row || row.expires_at <= now) return undefined;
  return { idHash: row.id_hash, user: row.user, authTime: row.auth_time, amr: parseAmr(row.amr), createdAt: row.created_at };
}

export async function deleteSession(store: Repositories, token: string | undefined): Promise<void> {
  if (isToken(token, 'session')) await store.accounts.deleteSession(hashToken(token));
}

/** Records a second factor the session's user just presented (turning two-factor sign-in on). */
export async function addSecondFactorToSession(store: Repositories, idHash: string): Promise<void> {
  await store.accounts.setSessionAmr(idHash, 'pwd otp');
}
