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
  await ctx.db.insertInto('pending_sign_ins').values({ id_hash: hashToken(token), user_id: userId, attempts: 0, created_at: now, expires_at: now + PENDING_SIGN_IN_SECONDS * 1000 }).execute();
  return token;
}

/** The user a pending sign-in is for, while it is live. */
export async function pendingSignInUser(ctx: Context, token: unknown): Promise<User | undefined> {
  if (!isToken(token, 'pendingSignIn')) return undefined;
  return ctx.db
    .selectFrom('pending_sign_ins')
    .innerJoin('users', 'users.id', 'pending_sign_ins.user_id')
    .selectAll('users')
    .where('pending_sign_ins.id_hash', '=', hashToken(token))
    .where('pending_sign_ins.expires_at', '>', ctx.now())
    .where('pending_sign_ins.attempts', '<', MAX_CODE_ATTEMPTS)
    .executeTakeFirst();
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
  return ctx.transaction(async (trx): Promise<SecondFactorOutcome> => {
    const pending = await trx.selectFrom('pending_sign_ins').selectAll().where('id_hash', '=', idHash).where('expires_at', '>', now).where('attempts', '<', MAX_CODE_ATTEMPTS).executeTakeFirst();
    const user = pending && (await trx.selectFrom('users').selectAll().where('id', '=', pending.user_id).executeTakeFirst());
    if (!pending || !user) return { kind: 'expired' };
    const method = await useSecondFactor(ctx, trx, user.id, code, now);
    if (method) {
      // Claimed at the attempt count read: of concurrent submissions, one proceeds.
      const ended = await trx.deleteFrom('pending_sign_ins').where('id_hash', '=', idHash).where('attempts', '=', pending.attempts).executeTakeFirst();
      if (ended.numDeletedRows !== 1n) return { kind: 'expired' };
      if (method === 'recovery') await recordAudit(trx, { type: 'two_factor.recovery_code_used', userId: user.id, actor: user.id, ip: meta.ip }, now);
      return { kind: 'signed-in', user };
    }
    const attempts = pending.attempts + 1;
    if (attempts >= MAX_CODE_ATTEMPTS) await trx.deleteFrom('pending_sign_ins').where('id_hash', '=', idHash).execute();
    else await trx.updateTable('pending_sign_ins').set({ attempts }).where('id_hash', '=', idHash).where('attempts', '=', pending.attempts).execute();
    return { kind: 'wrong', user, attemptsLeft: MAX_CODE_ATTEMPTS - attempts };
  });
}
