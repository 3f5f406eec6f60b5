/**
 * Browser sessions. The cookie holds a random token; the database holds only its hash. A new
 * session (new id) is created at every sign-in, so a session id fixed before login is worthless.
 * Each session records how the user proved who they are (RFC 8176 `amr` values): `pwd`, plus `otp`
 * after a two-factor sign-in.
 */
import type { Kysely } from 'kysely';
import type { Database, User } from '../../store/schema.js';
import { generateToken, hashToken, isToken } from '../../core/crypto/token-formats.js';

/** RFC 8176 §2: a password, and a one-time password (TOTP or a recovery code). */
export type AuthenticationMethod = 'pwd' | 'otp';

export interface BrowserSession {
  idHash: string;
  user: User;
  authTime: number;
  amr: AuthenticationMethod[];
  createdAt: number;
}

/** Stored `amr` text as a list; rows from before it was recorded were password sign-ins. */
export function parseAmr(stored: string | null): AuthenticationMethod[] {
  return stored ? (stored.split(' ').filter((method) => method === 'pwd' || method === 'otp') as AuthenticationMethod[]) : ['pwd'];
}

export async function createSession(
  db: Kysely<Database>,
  userId: string,
  amr: AuthenticationMethod[],
  now: number,
  ttlSeconds: number,
): Promise<string> {
  const token = generateToken('session');
  await db
    .insertInto('sessions')
    .values({ id_hash: hashToken(token), user_id: userId, auth_time: now, amr: amr.join(' '), created_at: now, expires_at: now + ttlSeconds * 1000 })
    .execute();
  return token;
}

export async function findSession(db: Kysely<Database>, token: string | undefined, now: number): Promise<BrowserSession | undefined> {
  if (!isToken(token, 'session')) return undefined;
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('users')
    .select(['sessions.id_hash', 'sessions.auth_time', 'sessions.amr', 'sessions.created_at as session_created_at', 'sessions.expires_at'])
    .where('sessions.id_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row || row.expires_at <= now) return undefined;
  const { id_hash, auth_time, amr, session_created_at, expires_at: _expires, ...user } = row;
  return { idHash: id_hash, user, authTime: auth_time, amr: parseAmr(amr), createdAt: session_created_at };
}

export async function deleteSession(db: Kysely<Database>, token: string | undefined): Promise<void> {
  if (!isToken(token, 'session')) return;
  await db.deleteFrom('sessions').where('id_hash', '=', hashToken(token)).execute();
}

/** Records a second factor the session's user just presented (turning two-factor sign-in on). */
export async function addSecondFactorToSession(db: Kysely<Database>, idHash: string): Promise<void> {
  await db.updateTable('sessions').set({ amr: 'pwd otp' }).where('id_hash', '=', idHash).execute();
}

/** Ends every session of a user (after a password reset); returns how many there were. */
export async function deleteSessionsOf(db: Kysely<Database>, userId: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
