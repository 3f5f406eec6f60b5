/**
 * Every check of a user's password or second factor goes through here, so each counts against
 * the account's limits (account-limits.ts) and the owner hears of a lock-out once.
 */
import { recordAudit, type RequestMeta } from '../../core/audit.js';
import type { PlatformContext } from '../context.js';
import { sendMail } from '../mail.js';
import type { Repositories } from '../../store/index.js';
import type { User } from '../../store/schema.js';
import { authenticateUser, findUserByEmail } from './users.js';

export type PasswordCheck = { kind: 'ok'; user: User } | { kind: 'wrong' } | { kind: 'locked'; retryAfterSeconds: number };

export const LOCKED_MESSAGE = 'Too many failed sign-in attempts for this account. Try again later, or reset your password.';

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Checks a password, unless the account is locked: then the password is not even compared, for an
 * address with or without an account alike. A right password does not clear the failures: a
 * sign-in does once it is complete (second factor included), so re-entering the password cannot
 * reset the count of wrong codes.
 */
export async function checkPassword(ctx: PlatformContext, email: string, password: string, meta: RequestMeta): Promise<PasswordCheck> {
  const locked = await ctx.accountLimits.lockedFor(email);
  if (locked > 0) return { kind: 'locked', retryAfterSeconds: seconds(locked) };
  const user = await authenticateUser(ctx.store, email, password);
  if (user) return { kind: 'ok', user };
  return recordFailedCheck(ctx, email, 'password', meta);
}

/**
 * Counts a failed password or second-factor check. For an address with an account it writes
 * `sign_in.failed` (with the IP and browser, for the owner's Recent activity); the failure that
 * starts a lock-out also mails the owner and writes `account.locked`.
 */
export async function recordFailedCheck(
  ctx: PlatformContext,
  email: string,
  factor: 'password' | 'second factor',
  meta: RequestMeta,
): Promise<{ kind: 'wrong' } | { kind: 'locked'; retryAfterSeconds: number }> {
  const { lockedFor, lockStarted } = await ctx.accountLimits.recordFailure(email);
  const user = await findUserByEmail(ctx.store, email);
  if (user) {
    const now = ctx.now();
    await ctx.store.transaction(async (tx) => {
      const detail = { factor, ...(meta.userAgent ? { user_agent: meta.userAgent } : {}) };
      await recordAudit(tx, { type: 'sign_in.failed', userId: user.id, actor: 'system:sign-in', ip: meta.ip, detail }, now);
      if (lockStarted) await announceLockout(ctx, tx, user, factor, seconds(lockedFor), meta, now);
    });
  }
  return lockedFor > 0 ? { kind: 'locked', retryAfterSeconds: seconds(lockedFor) } : { kind: 'wrong' };
}

async function announceLockout(ctx: PlatformContext, tx: Repositories, user: User, factor: 'password' | 'second factor', lockedSeconds: number, meta: RequestMeta, now: number): Promise<void> {
  const { platformName, baseUrl, accountLockout } = ctx.config;
  const minutes = Math.ceil(lockedSeconds / 60);
  const cause =
    factor === 'password'
      ? `${accountLockout.failures} wrong passwords were entered for your account.`
      : `The right password was entered for your account, followed by wrong two-factor codes. Someone may know your password: change it now.`;
  await sendMail(
    tx,
    {
      to: user.email,
      subject: `Sign-in to your ${platformName} account is paused`,
      body: `${cause}\n\nTo protect your account, signing in is paused for ${minutes} minutes${meta.ip ? ` (the last attempt came from ${meta.ip})` : ''}. Nobody signed in.\n\nIf this was not you, reset your password at ${baseUrl}/password/forgot and turn on two-factor sign-in under Settings › Security.`,
    },
    now,
  );
  await recordAudit(tx, { type: 'account.locked', userId: user.id, actor: 'system:sign-in', ip: meta.ip, detail: { factor, failures: accountLockout.failures, locked_seconds: lockedSeconds } }, now);
}
