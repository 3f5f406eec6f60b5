/**
 * Users, their browser sessions, and the one-time links mailed to them (email verification,
 * sign-up confirmation, password reset). Links and sessions are stored as hashes only; a link is
 * claimed by one conditional update, so of two concurrent uses exactly one succeeds.
 */
import type { Kysely } from 'kysely';
import type { Database, EmailVerificationsTable, PasswordResetsTable, SessionsTable, SignupRequestsTable, User } from '../schema.js';

/** A session with its user. */
export interface SessionRow {
  id_hash: string;
  auth_time: number;
  amr: string | null;
  created_at: number;
  expires_at: number;
  user: User;
}

export class AccountRepository {
  constructor(private readonly db: Kysely<Database>) {}

  findUser(id: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** By normalised (lower-case) address. */
  findUserByEmail(email: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  /** Every user, oldest first. */
  listUsers(): Promise<User[]> {
    return this.db.selectFrom('users').selectAll().orderBy('created_at').orderBy('email').execute();
  }

  async hasUsers(): Promise<boolean> {
    return (await this.db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
  }

  async insertUser(user: User): Promise<void> {
    await this.db.insertInto('users').values(user).execute();
  }

  async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
  }

  /** Marks the address verified if it is still the user's; the user, or undefined. */
  markEmailVerified(userId: string, email: string): Promise<User | undefined> {
    return this.db.updateTable('users').set({ email_verified: 1 }).where('id', '=', userId).where('email', '=', email).returningAll().executeTakeFirst();
  }

  async insertSession(row: SessionsTable): Promise<void> {
    await this.db.insertInto('sessions').values(row).execute();
  }

  async findSession(idHash: string): Promise<SessionRow | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('users')
      .select(['sessions.id_hash', 'sessions.auth_time', 'sessions.amr', 'sessions.created_at as session_created_at', 'sessions.expires_at'])
      .where('sessions.id_hash', '=', idHash)
      .executeTakeFirst();
    if (!row) return undefined;
    const { id_hash, auth_time, amr, session_created_at, expires_at, ...user } = row;
    return { id_hash, auth_time, amr, created_at: session_created_at, expires_at, user };
  }

  async setSessionAmr(idHash: string, amr: string): Promise<void> {
    await this.db.updateTable('sessions').set({ amr }).where('id_hash', '=', idHash).execute();
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  /** Ends every session of a user; returns how many there were. */
  async deleteSessionsOf(userId: string): Promise<number> {
    return Number((await this.db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst()).numDeletedRows);
  }

  async insertEmailVerification(row: EmailVerificationsTable): Promise<void> {
    await this.db.insertInto('email_verifications').values(row).execute();
  }

  /** Uses an unexpired, unused verification link; what it was for, or undefined. */
  claimEmailVerification(tokenHash: string, now: number): Promise<Pick<EmailVerificationsTable, 'user_id' | 'email'> | undefined> {
    return this.db
      .updateTable('email_verifications')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning(['user_id', 'email'])
      .executeTakeFirst();
  }

  async insertSignupRequest(row: SignupRequestsTable): Promise<void> {
    await this.db.insertInto('signup_requests').values(row).execute();
  }

  /** Uses an unexpired, unused sign-up link; the request, or undefined. */
  claimSignupRequest(tokenHash: string, now: number): Promise<SignupRequestsTable | undefined> {
    return this.db
      .updateTable('signup_requests')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
  }

  async insertPasswordReset(row: PasswordResetsTable): Promise<void> {
    await this.db.insertInto('password_resets').values(row).execute();
  }

  /** The user an unexpired, unused reset link is for. */
  userOfPasswordReset(tokenHash: string, now: number): Promise<User | undefined> {
    return this.db
      .selectFrom('password_resets')
      .innerJoin('users', 'users.id', 'password_resets.user_id')
      .selectAll('users')
      .where('password_resets.token_hash', '=', tokenHash)
      .where('password_resets.used_at', 'is', null)
      .where('password_resets.expires_at', '>', now)
      .executeTakeFirst();
  }

  /** Uses a reset link; false when it was used, expired or unknown. */
  async claimPasswordReset(tokenHash: string, now: number): Promise<boolean> {
    const claimed = await this.db
      .updateTable('password_resets')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return claimed.numUpdatedRows === 1n;
  }

  /** Voids every unused reset link of a user. */
  async voidPasswordResetsOf(userId: string, now: number): Promise<void> {
    await this.db.updateTable('password_resets').set({ used_at: now }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
  }
}
