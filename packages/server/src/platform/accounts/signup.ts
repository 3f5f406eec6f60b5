/**
 * Self-service sign-up. The account is created only when the link mailed to the address is
 * followed, so sign-up answers the same whether or not the address already has an account: a
 * new address is sent the link, an address with an account is told so in a mail to its owner.
 * Nobody learns from the answer (or can squat an address they do not read) who has an account.
 */
import type { RequestMeta } from '../../core/audit.js';
import { recordAudit } from '../../core/audit.js';
import type { PlatformContext } from '../context.js';
import { sendMail } from '../mail.js';
import { generateToken, hashToken, isToken } from '../../core/crypto/token-formats.js';
import type { User } from '../../store/schema.js';
import { insertUser, prepareAccount } from './users.js';

const LINK_TTL_MS = 24 * 3600 * 1000;

/**
 * Validates a sign-up (throws AccountError for a bad address or an easily guessed password, the
 * same for every address) and mails the address: a link to finish, or a note to its owner.
 */
export async function requestSignup(
  ctx: PlatformContext,
  input: { email: string; password: string; name: string },
  returnTo: string | undefined,
  meta: RequestMeta,
): Promise<{ email: string }> {
  const { platformName, baseUrl } = ctx.config;
  const account = await prepareAccount(input, platformName);
  // Over its share of mails, an address gets none (and no request): the answer stays the same.
  if (!(await ctx.accountLimits.consumeMail(account.email))) return { email: account.email };
  const now = ctx.now();
  const token = generateToken('signupConfirmation');
  await ctx.store.transaction(async (tx) => {
    const owner = await tx.accounts.findUserByEmail(account.email);
    if (owner) {
      await sendMail(
        tx,
        {
          to: owner.email,
          subject: `Someone tried to create a ${platformName} account with your address`,
          body: `Someone (perhaps you) tried to create a ${platformName} account for ${owner.email}, which already has an account.\n\nTo use it, sign in at ${baseUrl}/login. Forgot your password? Reset it at ${baseUrl}/password/forgot.\n\nIf this was not you, nothing changed and you can ignore this message.`,
        },
        now,
      );
      await recordAudit(tx, { type: 'account.signup_attempted', userId: owner.id, actor: 'system:sign-up', ip: meta.ip }, now);
      return;
    }
    await tx.accounts.insertSignupRequest({ token_hash: hashToken(token), email: account.email, name: account.name, password_hash: account.passwordHash, return_to: returnTo ?? null, created_at: now, expires_at: now + LINK_TTL_MS, used_at: null });
    await sendMail(
      tx,
      {
        to: account.email,
        subject: `Finish creating your ${platformName} account`,
        body: `Open this link within 24 hours to confirm ${account.email} and create your ${platformName} account:\n\n${baseUrl}/signup/confirm?token=${token}\n\nIf you did not sign up, ignore this message: no account is created.`,
      },
      now,
    );
  });
  return { email: account.email };
}

export type SignupConfirmation = { kind: 'created'; user: User; returnTo: string | null } | { kind: 'taken'; email: string } | { kind: 'invalid' };

/** Follows a sign-up link once: creates the account (its address confirmed by the link). */
export async function confirmSignup(ctx: PlatformContext, token: unknown, meta: RequestMeta): Promise<SignupConfirmation> {
  if (!isToken(token, 'signupConfirmation')) return { kind: 'invalid' };
  const now = ctx.now();
  return ctx.store.transaction(async (tx): Promise<SignupConfirmation> => {
    const request = await tx.accounts.claimSignupRequest(hashToken(token), now);
    if (!request) return { kind: 'invalid' };
    const user = await insertUser(tx, { email: request.email, name: request.name, passwordHash: request.password_hash }, true, now);
    // Another link for the same address was followed first.
    if (!user) return { kind: 'taken', email: request.email };
    await recordAudit(tx, { type: 'account.created', userId: user.id, actor: user.id, ip: meta.ip }, now);
    return { kind: 'created', user, returnTo: request.return_to };
  });
}
