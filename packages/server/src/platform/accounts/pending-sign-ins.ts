/**
 * The state between a right password and the second factor. No session exists yet: the browser
 * holds a random token (its hash is stored) that is good for five minutes and five guesses, and
 * that a right code uses up, so the step can be neither skipped nor replayed. Wrong codes also
 * count against the account (password-checks.ts), which bounds guessing across restarts.
 */
import { recordAudit, type RequestMeta } from '../../core/audit.js';
import type { Context } from '../../core/context.js';
import { generateToken, hashToken, isToken } from '../../core/crypto/token-formats.js';
import type { User } from '../../store/schema.js';
import { useSecondFactor } from './two-factor.js';

export const PENDING_SIGN_IN_SECONDS = 5 * 60;
export const MAX_CODE_ATTEMPTS = 5;

export async function startPendingSignIn(ctx: Context, userId: string): Promise<string> {
  const token = generateToken('pendingSignIn');
  const now = ctx.now();
  await ctx.store.twoFactor.insertPendingSignIn({ id_hash: hashToken(token), user_id: userId, attempts: 0, created_at: now, expires_at: now + PENDING_SIGN_IN_SECONDS * 1000 });
  return token;
}

/** The user a pending sign-in is for, while it is live. */
export async function pendingSignInUser(ctx: Context, token: unknown): Promise<User | undefined> {
  if (!isToken(token, 'pendingSignIn')) return undefined;
  return ctx.store.twoFactor.pendingSignInUser(hashToken(token), ctx.now(), MAX_CODE_ATTEMPTS);
}

export type SecondFactorOutcome =
  | { kind: 'signed-in'; user: User }
  /** `attemptsLeft` 0: the pending sign-in is gone; the password must be entered again. */
  | { kind: 'wrong'; user: User; attemptsLeft: number }
  | { kind: 'expired' };

/** Checks the code of a pending sign-in; a right one ends the pending state (the caller starts the session). */
export async function completePendingSignIn(ctx: Context, token: unknown, code: string, meta: RequestMeta): Promise<SecondFactorOutcome> {
  if (!isToken(token, 'pendingSignIn')) return { kind: 'expired' };
  const idHash = hashToken(token);
  const now = ctx.now();
  return ctx.store.transaction(async (tx): Promise<SecondFactorOutcome> => {
    const pending = await tx.twoFactor.findPendingSignIn(idHash, now, MAX_CODE_ATTEMPTS);
    const user = pending && (await tx.accounts.findUser(pending.user_id));
    if (!pending || !user) return { kind: 'expired' };
    const method = await useSecondFactor(ctx, tx, user.id, code, now);
    if (method) {
      // Claimed at the attempt count read: of concurrent submissions, one proceeds.
      if (!(await tx.twoFactor.endPendingSignIn(idHash, pending.attempts))) return { kind: 'expired' };
      if (method === 'recovery') await recordAudit(tx, { type: 'two_factor.recovery_code_used', userId: user.id, actor: user.id, ip: meta.ip }, now);
      return { kind: 'signed-in', user };
    }
    const attempts = pending.attempts + 1;
    if (attempts >= MAX_CODE_ATTEMPTS) await tx.twoFactor.deletePendingSignIn(idHash);
    else await tx.twoFactor.countPendingAttempt(idHash, pending.attempts);
    return { kind: 'wrong', user, attemptsLeft: MAX_CODE_ATTEMPTS - attempts };
  });
}
