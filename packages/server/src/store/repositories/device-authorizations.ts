/**
 * Device authorization requests (RFC 8628), found by the hash of their device code (the polling
 * device) or of their user code (the verification page). Every state change is a conditional
 * update, so two requests racing on one row cannot both succeed.
 */
import type { Kysely } from 'kysely';
import type { Database, DeviceAuthorization } from '../schema.js';

export type DeviceDecision =
  | { status: 'approved'; user_id: string; authorization_id: string; auth_time: number; amr: string }
  | { status: 'denied'; user_id: string };

export class DeviceAuthorizationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Stores a new request; false when its user code is held by another live request (the caller
   * draws another). An expired request's user code is freed first.
   */
  async insert(row: DeviceAuthorization, now: number): Promise<boolean> {
    await this.db.deleteFrom('device_authorizations').where('user_code_hash', '=', row.user_code_hash).where('expires_at', '<=', now).execute();
    const inserted = await this.db.insertInto('device_authorizations').values(row).onConflict((conflict) => conflict.column('user_code_hash').doNothing()).executeTakeFirst();
    return inserted.numInsertedOrUpdatedRows === 1n;
  }

  findByDeviceCode(deviceCodeHash: string): Promise<DeviceAuthorization | undefined> {
    return this.db.selectFrom('device_authorizations').selectAll().where('device_code_hash', '=', deviceCodeHash).executeTakeFirst();
  }

  findByUserCode(userCodeHash: string): Promise<DeviceAuthorization | undefined> {
    return this.db.selectFrom('device_authorizations').selectAll().where('user_code_hash', '=', userCodeHash).executeTakeFirst();
  }

  /** Records the user's decision on a request still pending and unexpired; false when it is not. */
  async decide(deviceCodeHash: string, decision: DeviceDecision, now: number): Promise<boolean> {
    const decided = await this.db
      .updateTable('device_authorizations')
      .set({ ...decision, decided_at: now })
      .where('device_code_hash', '=', deviceCodeHash)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return decided.numUpdatedRows === 1n;
  }

  /** Records a poll, and the interval the device must keep from now on. */
  async recordPoll(deviceCodeHash: string, intervalSeconds: number, now: number): Promise<void> {
    await this.db.updateTable('device_authorizations').set({ last_polled_at: now, interval_seconds: intervalSeconds }).where('device_code_hash', '=', deviceCodeHash).execute();
  }

  /**
   * Claims an approved request for redemption into the token family `familyId`; of concurrent
   * claims exactly one succeeds.
   */
  async claim(deviceCodeHash: string, familyId: string, now: number): Promise<boolean> {
    const claimed = await this.db
      .updateTable('device_authorizations')
      .set({ consumed_at: now, family_id: familyId })
      .where('device_code_hash', '=', deviceCodeHash)
      .where('status', '=', 'approved')
      .where('consumed_at', 'is', null)
      .executeTakeFirst();
    return claimed.numUpdatedRows === 1n;
  }
}
