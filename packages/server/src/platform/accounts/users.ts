/** Users: creation, sign-in by email and password. The first user of an instance is its admin. */
import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Repositories, Store } from '../../store/index.js';
import type { User } from '../../store/schema.js';
import { sendVerificationEmail } from './email-verification.js';
import { passwordProblem } from './password-strength.js';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './passwords.js';

export class AccountError extends Error {}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface NewAccount {
  email: string;
  name: string | null;
  passwordHash: string;
}

/**
 * Checks what a new account is made of (the address's form, the password's strength, never
 * whether the address is taken) and hashes the password. Throws AccountError with the reason.
 */
export async function prepareAccount(input: { email: string; password: string; name?: string | null }, platformName?: string): Promise<NewAccount> {
  const email = normalizeEmail(input.email);
  if (!EMAIL.test(email) || email.length > 254) throw new AccountError('Enter a valid email address.');
  const name = input.name?.trim() || null;
  if (name && name.length > 200) throw new AccountError('That name is too long.');
  const problem = await passwordProblem(input.password, [email, name, platformName]);
  if (problem) throw new AccountError(problem);
  return { email, name, passwordHash: await hashPassword(input.password) };
}

/** Inserts a prepared account; the first user of an instance becomes its admin. Undefined when the address is taken. */
export async function insertUser(tx: Repositories, account: NewAccount, emailVerified: boolean, now: number): Promise<User | undefined> {
  if (await tx.accounts.findUserByEmail(account.email)) return undefined;
  const firstUser = !(await tx.accounts.hasUsers());
  const user: User = {
    id: randomUUID(),
    email: account.email,
    name: account.name,
    password_hash: account.passwordHash,
    email_verified: emailVerified ? 1 : 0,
    is_admin: firstUser ? 1 : 0,
    created_at: now,
  };
  await tx.accounts.insertUser(user);
  return user;
}

export interface NewUserOptions {
  /** Set when an administrator vouches for the address (CLI); otherwise it must be confirmed. */
  emailVerified?: boolean;
  /** When given, an unverified user is sent a verification link in the same transaction. */
  sendVerificationFrom?: Config;
}

/** Creates a user at once (the CLI and fixtures; self-service sign-up goes through signup.ts). */
export async function createUser(
  store: Store,
  input: { email: string; password: string; name?: string | null },
  now: number,
  options: NewUserOptions = {},
): Promise<User> {
  const account = await prepareAccount(input, options.sendVerificationFrom?.platformName);
  return store.transaction(async (tx) => {
    const user = await insertUser(tx, account, options.emailVerified ?? false, now);
    if (!user) throw new AccountError('An account with that email already exists.');
    if (!options.emailVerified && options.sendVerificationFrom) await sendVerificationEmail(tx, options.sendVerificationFrom, user, now);
    return user;
  });
}

export function findUserByEmail(store: Repositories, email: string): Promise<User | undefined> {
  return store.accounts.findUserByEmail(normalizeEmail(email));
}

/** The user when the password is right; undefined otherwise, in the same time either way. */
export async function authenticateUser(store: Repositories, email: string, password: string): Promise<User | undefined> {
  const user = await findUserByEmail(store, email);
  const valid = await verifyPassword(password, user?.password_hash ?? DUMMY_PASSWORD_HASH);
  return valid && user ? user : undefined;
}
