/**
 * Email verification. `email_verified` (in ID tokens and userinfo) stays false until the user
 * follows a one-time link sent to the address. Links expire after a day and die once used.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import { sendMail } from '../mail.js';
import { generateToken, hashToken, isToken } from '../../core/crypto/token-formats.js';
import type { Database, User } from '../../store/schema.js';

const LINK_TTL_MS = 24 * 3600 * 1000;

/** Writes a verification link to the outbox in the caller's transaction. */
export async function sendVerificationEmail(db: Kysely<Database>, config: Config, user: Pick<User, 'id' | 'email'>, now: number): Promise<void> {
  const token = generateToken('emailVerification');
  await db
    .insertInto('email_verifications')
    .values({ token_hash: hashToken(token), user_id: user.id, email: user.email, created_at: now, expires_at: now + LINK_TTL_MS, used_at: null })
    .execute();
  const link = `${config.baseUrl}/verify-email?token=${token}`;
  await sendMail(
    db,
    {
      to: user.email,
      subject: `Confirm your email address for ${config.platformName}`,
      body: `Confirm that ${user.email} is yours by opening this link within 24 hours:\n\n${link}\n\nIf you did not sign up, ignore this message.`,
    },
    now,
  );
}

/** Marks the address verified if the link is valid, unused, unexpired and still the user's address. */
export async function confirmEmail(db: Kysely<Database>, token: unknown, now: number): Promise<User | undefined> {
  if (!isToken(token, 'emailVerification')) return undefined;
  return db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('email_verifications')
      .set({ used_at: now })
      .where('token_hash', '=', hashToken(token))
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning(['user_id', 'email'])
      .executeTakeFirst();
    if (!claimed) return undefined;
    const user = await trx
      .updateTable('users')
      .set({ email_verified: 1 })
      .where('id', '=', claimed.user_id)
      .where('email', '=', claimed.email)
      .returningAll()
      .executeTakeFirst();
    return user;
  });
}
