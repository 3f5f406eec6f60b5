/**
 * Email verification. `email_verified` (in ID tokens and userinfo) stays false until the user
 * follows a one-time link sent to the address. Links expire after a day and die once used.
 */
import type { Config } from '../../config.js';
import { generateToken, hashToken, isToken } from '../../core/crypto/token-formats.js';
import type { Repositories, Store } from '../../store/index.js';
import type { User } from '../../store/schema.js';
import { sendMail } from '../mail.js';

const LINK_TTL_MS = 24 * 3600 * 1000;

/** Writes a verification link to the outbox in the caller's transaction. */
export async function sendVerificationEmail(tx: Repositories, config: Config, user: Pick<User, 'id' | 'email'>, now: number): Promise<void> {
  const token = generateToken('emailVerification');
  await tx.accounts.insertEmailVerification({ token_hash: hashToken(token), user_id: user.id, email: user.email, created_at: now, expires_at: now + LINK_TTL_MS, used_at: null });
  const link = `${config.baseUrl}/verify-email?token=${token}`;
  await sendMail(
    tx,
    {
      to: user.email,
      subject: `Confirm your email address for ${config.platformName}`,
      body: `Confirm that ${user.email} is yours by opening this link within 24 hours:\n\n${link}\n\nIf you did not sign up, ignore this message.`,
    },
    now,
  );
}

/** Marks the address verified if the link is valid, unused, unexpired and still the user's address. */
export async function confirmEmail(store: Store, token: unknown, now: number): Promise<User | undefined> {
  if (!isToken(token, 'emailVerification')) return undefined;
  return store.transaction(async (tx) => {
    const claimed = await tx.accounts.claimEmailVerification(hashToken(token), now);
    return claimed && tx.accounts.markEmailVerified(claimed.user_id, claimed.email);
  });
}
