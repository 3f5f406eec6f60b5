/**
 * Account recovery by email. "Forgot password?" mails a single-use link that expires in 30
 * minutes (only its hash is stored); the answer is the same whether or not the address has an
 * account. Setting the new password ends every session of the user (the browser that reset it
 * signs in again, with the second factor when one is set up), voids the user's other reset links,
 * clears the account's failed sign-in count, mails the owner and writes `password.reset`.
 */
import { recordAudit, type RequestMeta } from '../../core/audit.js';
import type { PlatformContext } from '../context.js';
import { sendMail } from '../mail.js';
import { generateToken, hashToken, isToken } from '../../core/crypto/token-formats.js';
import type { Repositories } from '../../store/index.js';
import type { User } from '../../store/schema.js';
import { passwordProblem } from './password-strength.js';
import { hashPassword } from './passwords.js';
import { AccountError, findUserByEmail } from './users.js';

export const RESET_LINK_TTL_MS = 30 * 60 * 1000;

/** Mails a reset link if the address has an account and has not had its share of mails; answers nothing either way. */
export async function requestPasswordReset(ctx: PlatformContext, email: string, meta: RequestMeta): Promise<void> {
  const user = await findUserByEmail(ctx.store, email);
  if (!user || !(await ctx.accountLimits.consumeMail(user.email))) return;
  const { platformName, baseUrl } = ctx.config;
  const token = generateToken('passwordReset');
  const now = ctx.now();
  await ctx.store.transaction(async (tx) => {
    await tx.accounts.insertPasswordReset({ token_hash: hashToken(token), user_id: user.id, created_at: now, expires_at: now + RESET_LINK_TTL_MS, used_at: null });
    await sendMail(
      tx,
      {
        to: user.email,
        subject: `Reset your ${platformName} password`,
        body: `Someone (perhaps you) asked to reset the password of your ${platformName} account${meta.ip ? ` from ${meta.ip}` : ''}. Open this link within 30 minutes to choose a new one:\n\n${baseUrl}/password/reset?token=${token}\n\nThe link works once. If you did not ask, ignore this message: your password stays as it is.`,
      },
      now,
    );
    await recordAudit(tx, { type: 'password.reset_requested', userId: user.id, actor: 'system:password-reset', ip: meta.ip }, now);
  });
}

/** The user a reset link is for, while it is unused and unexpired. */
export async function userOfResetLink(ctx: PlatformContext, token: unknown): Promise<User | undefined> {
  return isToken(token, 'passwordReset') ? ctx.store.accounts.userOfPasswordReset(hashToken(token), ctx.now()) : undefined;
}

/**
 * Sets a new password through a reset link. Undefined when the link is invalid, expired or used;
 * throws AccountError when the password is too easy to guess (the link stays usable).
 */
export async function resetPassword(ctx: PlatformContext, token: unknown, password: string, meta: RequestMeta): Promise<User | undefined> {
  const user = await userOfResetLink(ctx, token);
  if (!user) return undefined;
  const passwordHash = await checkedPasswordHash(ctx, user, password);
  const now = ctx.now();
  const reset = await ctx.store.transaction(async (tx) => {
    if (!(await tx.accounts.claimPasswordReset(hashToken(token as string), now))) return false;
    const sessionsEnded = await replacePassword(tx, user.id, passwordHash, now);
    const how = `through a reset link${meta.ip ? ` from ${meta.ip}` : ''}`;
    await sendMail(tx, passwordChangedMail(ctx, user, how), now);
    await recordAudit(tx, { type: 'password.reset', userId: user.id, actor: user.id, ip: meta.ip, detail: { sessions_ended: sessionsEnded } }, now);
    return true;
  });
  if (!reset) return undefined;
  await ctx.accountLimits.clearFailures(user.email);
  return user;
}

/**
 * An administrator sets a user's password (`tessera user set-password`), with the same effects as
 * a reset: every session ends, reset links are void, failures are cleared, the owner is mailed.
 */
export async function setPasswordAsAdmin(ctx: PlatformContext, user: User, password: string, actor: string): Promise<{ sessionsEnded: number }> {
  const passwordHash = await checkedPasswordHash(ctx, user, password);
  const now = ctx.now();
  const sessionsEnded = await ctx.store.transaction(async (tx) => {
    const ended = await replacePassword(tx, user.id, passwordHash, now);
    await sendMail(tx, passwordChangedMail(ctx, user, 'by an administrator'), now);
    await recordAudit(tx, { type: 'password.changed_by_admin', userId: user.id, actor, detail: { sessions_ended: ended } }, now);
    return ended;
  });
  await ctx.accountLimits.clearFailures(user.email);
  return { sessionsEnded };
}

/** The hash of a new password, once it is strong enough (AccountError says why not). */
async function checkedPasswordHash(ctx: PlatformContext, user: User, password: string): Promise<string> {
  const problem = await passwordProblem(password, [user.email, user.name, ctx.config.platformName]);
  if (problem) throw new AccountError(problem);
  return hashPassword(password);
}

/** The new hash, no other reset link left usable, and every session ended; how many were. */
async function replacePassword(tx: Repositories, userId: string, passwordHash: string, now: number): Promise<number> {
  await tx.accounts.voidPasswordResetsOf(userId, now);
  await tx.accounts.setPasswordHash(userId, passwordHash);
  return tx.accounts.deleteSessionsOf(userId);
}

function passwordChangedMail(ctx: PlatformContext, user: User, how: string) {
  const { platformName, baseUrl } = ctx.config;
  return {
    to: user.email,
    subject: `Your ${platformName} password was changed`,
    body: `The password of your ${platformName} account was changed ${how}, and every device signed in to it was signed out.\n\nIf this was not you, reset your password again at ${baseUrl}/password/forgot at once.`,
  };
}
