/** TOTP enrolments, recovery codes (hashed), and sign-ins waiting for their second factor. */
import type { Kysely } from 'kysely';
import type { Database, PendingSignInsTable, RecoveryCodesTable, TwoFactorTable, User } from '../schema.js';

export class TwoFactorRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The confirmed enrolment of a user (`confirmed: true`), or the one waiting for its first code. */
  find(userId: string, state: { confirmed: boolean }): Promise<TwoFactorTable | undefined> {
    return this.db
      .selectFrom('two_factor')
      .selectAll()
      .where('user_id', '=', userId)
      .where('confirmed_at', state.confirmed ? 'is not' : 'is', null)
      .executeTakeFirst();
  }

  /** Replaces any enrolment of the user with a new, unconfirmed one. */
  async startEnrolment(row: TwoFactorTable): Promise<void> {
    await this.db.deleteFrom('two_factor').where('user_id', '=', row.user_id).execute();
    await this.db.insertInto('two_factor').values(row).execute();
  }

  /** Confirms the waiting enrolment at `step`; false when there was none. */
  async confirm(userId: string, step: number, now: number): Promise<boolean> {
    const confirmed = await this.db.updateTable('two_factor').set({ confirmed_at: now, last_used_step: step }).where('user_id', '=', userId).where('confirmed_at', 'is', null).executeTakeFirst();
    return confirmed.numUpdatedRows === 1n;
  }

  /** Moves the last accepted step on to `step`; false when it is there or beyond already (a replay). */
  async useStep(userId: string, step: number): Promise<boolean> {
    const used = await this.db
      .updateTable('two_factor')
      .set({ last_used_step: step })
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .executeTakeFirst();
    return used.numUpdatedRows === 1n;
  }

  /** Removes the enrolment and the recovery codes of a user. */
  async remove(userId: string): Promise<void> {
    await this.db.deleteFrom('two_factor').where('user_id', '=', userId).execute();
    await this.db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  }

  /** Replaces a user's recovery codes. */
  async replaceRecoveryCodes(userId: string, rows: RecoveryCodesTable[]): Promise<void> {
    await this.db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    if (rows.length) await this.db.insertInto('recovery_codes').values(rows).execute();
  }

  async unusedRecoveryCodes(userId: string): Promise<number> {
    const left = await this.db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number>().as('count')).where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirst();
    return Number(left?.count ?? 0);
  }

  /** Uses an unused recovery code; false when there is no such code. */
  async useRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean> {
    const used = await this.db.updateTable('recovery_codes').set({ used_at: now }).where('user_id', '=', userId).where('code_hash', '=', codeHash).where('used_at', 'is', null).executeTakeFirst();
    return used.numUpdatedRows === 1n;
  }

  async insertPendingSignIn(row: PendingSignInsTable): Promise<void> {
    await this.db.insertInto('pending_sign_ins').values(row).execute();
  }

  /** A pending sign-in that is unexpired and has guesses left. */
  findPendingSignIn(idHash: string, now: number, maxAttempts: number): Promise<PendingSignInsTable | undefined> {
    return this.db.selectFrom('pending_sign_ins').selectAll().where('id_hash', '=', idHash).where('expires_at', '>', now).where('attempts', '<', maxAttempts).executeTakeFirst();
  }

  /** The user of such a pending sign-in. */
  pendingSignInUser(idHash: string, now: number, maxAttempts: number): Promise<User | undefined> {
    return this.db
      .selectFrom('pending_sign_ins')
      .innerJoin('users', 'users.id', 'pending_sign_ins.user_id')
      .selectAll('users')
      .where('pending_sign_ins.id_hash', '=', idHash)
      .where('pending_sign_ins.expires_at', '>', now)
      .where('pending_sign_ins.attempts', '<', maxAttempts)
      .executeTakeFirst();
  }

  /** Ends a pending sign-in if its attempt count is still `attempts` (of concurrent ends, one wins); true when it did. */
  async endPendingSignIn(idHash: string, attempts: number): Promise<boolean> {
    return (await this.db.deleteFrom('pending_sign_ins').where('id_hash', '=', idHash).where('attempts', '=', attempts).executeTakeFirst()).numDeletedRows === 1n;
  }

  async deletePendingSignIn(idHash: string): Promise<void> {
    await this.db.deleteFrom('pending_sign_ins').where('id_hash', '=', idHash).execute();
  }

  /** Counts a wrong guess, if the count is still `attempts`. */
  async countPendingAttempt(idHash: string, attempts: number): Promise<void> {
    await this.db.updateTable('pending_sign_ins').set({ attempts: attempts + 1 }).where('id_hash', '=', idHash).where('attempts', '=', attempts).execute();
  }
}
