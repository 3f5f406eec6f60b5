/** Users: sign-up, sign-in by email and password. The first user of an instance is its admin. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { Database, User } from '../store/schema.js';
import { sendVerificationEmail } from './email-verification.js';
import { DUMMY_PASSWORD_HASH, MIN_PASSWORD_LENGTH, hashPassword, verifyPassword } from './passwords.js';

export class AccountError extends Error {}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface NewUserOptions {
  /** Set when an administrator vouches for the address (CLI); otherwise it must be confirmed. */
  emailVerified?: boolean;
  /** When given, an unverified user is sent a verification link in the same transaction. */
  sendVerificationFrom?: Config;
}

export async function createUser(
  db: Kysely<Database>,
  input: { email: string; password: string; name?: string | null },
  now: number,
  options: NewUserOptions = {},
): Promise<User> {
  const email = normalizeEmail(input.email);
  if (!EMAIL.test(email) || email.length > 254) throw new AccountError('Enter a valid email address.');
  if (input.password.length < MIN_PASSWORD_LENGTH) {
    throw new AccountError(`Passwords must be at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  if (input.password.length > 1024) throw new AccountError('That password is too long.');
  const passwordHash = await hashPassword(input.password);
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
    if (existing) throw new AccountError('An account with that email already exists.');
    const anyUser = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst();
    const user: User = {
      id: randomUUID(),
      email,
      name: input.name?.trim() || null,
      password_hash: passwordHash,
      email_verified: options.emailVerified ? 1 : 0,
      is_admin: anyUser ? 0 : 1,
      created_at: now,
    };
    await trx.insertInto('users').values(user).execute();
    if (!options.emailVerified && options.sendVerificationFrom) await sendVerificationEmail(trx, options.sendVerificationFrom, user, now);
    return user;
  });
}

export async function findUserById(db: Kysely<Database>, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUserByEmail(db: Kysely<Database>, email: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
}

/** The user when the password is right; undefined otherwise, in the same time either way. */
export async function authenticateUser(db: Kysely<Database>, email: string, password: string): Promise<User | undefined> {
  const user = await findUserByEmail(db, email);
  const valid = await verifyPassword(password, user?.password_hash ?? DUMMY_PASSWORD_HASH);
  return valid && user ? user : undefined;
}
