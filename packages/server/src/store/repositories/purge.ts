/**
 * Deletes what can no longer be used, so the token tables stop growing with every refresh:
 * expired access and refresh tokens, authorization codes a day past their expiry, expired browser
 * sessions, expired email verification, sign-up and password reset links, expired pending
 * two-factor sign-ins and expired device authorization requests. A rotated refresh token stays
 * until it expires, so its reuse is still detected until then. Token families stay: one row per
 * authorization, with its revocation reason.
 *
 * Each batch is one DELETE of at most `batchSize` rows, with a turn of the event loop between
 * batches, so a large purge never holds the database (or, on SQLite, the event loop) for long.
 * Every instance may purge; two purges at once only delete the same rows once.
 */
import { sql, type Kysely } from 'kysely';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database } from '../schema.js';

/** A replayed code revokes what it issued; a day past its expiry, nobody replays it any more. */
const CODE_RETENTION_MS = 24 * 3600 * 1000;

const PURGED = {
  accessTokens: { table: 'access_tokens', key: 'id', retentionMs: 0 },
  refreshTokens: { table: 'refresh_tokens', key: 'id', retentionMs: 0 },
  authorizationCodes: { table: 'authorization_codes', key: 'code_hash', retentionMs: CODE_RETENTION_MS },
  sessions: { table: 'sessions', key: 'id_hash', retentionMs: 0 },
  emailVerifications: { table: 'email_verifications', key: 'token_hash', retentionMs: 0 },
  signupRequests: { table: 'signup_requests', key: 'token_hash', retentionMs: 0 },
  passwordResets: { table: 'password_resets', key: 'token_hash', retentionMs: 0 },
  pendingSignIns: { table: 'pending_sign_ins', key: 'id_hash', retentionMs: 0 },
  deviceAuthorizations: { table: 'device_authorizations', key: 'device_code_hash', retentionMs: 0 },
} as const;

export type PurgeCounts = Record<keyof typeof PURGED, number>;

/** `stop` ends the purge between two batches (a server shutting down). */
export async function purgeExpired(db: Kysely<Database>, now: number, options: { batchSize?: number; stop?: AbortSignal } = {}): Promise<PurgeCounts> {
  const batchSize = options.batchSize ?? 500;
  const counts = Object.fromEntries(Object.keys(PURGED).map((name) => [name, 0])) as PurgeCounts;
  for (const [name, { table, key, retentionMs }] of Object.entries(PURGED) as Array<[keyof typeof PURGED, (typeof PURGED)[keyof typeof PURGED]]>) {
    for (;;) {
      if (options.stop?.aborted) return counts;
      const { numAffectedRows } = await sql`
        delete from ${sql.table(table)} where ${sql.ref(key)} in (
          select ${sql.ref(key)} from ${sql.table(table)} where expires_at <= ${now - retentionMs} limit ${batchSize}
        )`.execute(db);
      const deleted = Number(numAffectedRows ?? 0n);
      counts[name] += deleted;
      if (deleted < batchSize) break;
      await nextTurn();
    }
  }
  return counts;
}
