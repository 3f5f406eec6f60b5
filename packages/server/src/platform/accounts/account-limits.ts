/**
 * Limits on guessing at an account, counted per account (the normalised email) whatever address
 * or proxy header the attempts come with, so address rotation does not escape them:
 *
 * - failed checks (a wrong password at sign-in or on a re-check, a wrong second-factor code):
 *   `accountLockout.failures` within `accountLockout.seconds` lock the account for that long. An
 *   address without an account is counted and locked the same way, so the answer tells nothing;
 * - password checks outside sign-in (the Connected apps re-check), per address, at the sign-in
 *   rate (sign-in itself is limited per address by its route);
 * - mails about an account (sign-up, password reset) per address, so nobody is mail-bombed.
 *
 * Counters live in Redis when it is configured (src/counters.ts), so every instance shares them;
 * a failing Redis falls back to counting on each instance. With rate limits turned off
 * (TESSERA_RATE_LIMITS=false, for benchmarks) nothing is counted.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../config.js';
import { requestCounter } from '../../ops/counters.js';
import { normalizeEmail } from './users.js';

/** Mails about one address (sign-up, password reset) per window. */
const MAILS_PER_ADDRESS = 3;
const MAIL_WINDOW_SECONDS = 15 * 60;

export interface AccountLimits {
  /** Milliseconds before the account may be tried again; 0 when it may. */
  lockedFor(email: string): Promise<number>;
  /** Counts a failed check. `lockStarted` is true for the one failure that began a lock-out. */
  recordFailure(email: string): Promise<{ lockedFor: number; lockStarted: boolean }>;
  /** A successful sign-in or password reset forgets the failures. */
  clearFailures(email: string): Promise<void>;
  /** Counts a password check from an address outside sign-in; milliseconds to wait when over the limit. */
  consumeAddressCheck(ip: string): Promise<number>;
  /** Counts a mail about an address; false when it has had its share for now. */
  consumeMail(email: string): Promise<boolean>;
}

/** Fixed-size keys that hold no address in the clear. */
const accountKey = (email: string) => createHash('sha256').update(normalizeEmail(email)).digest('base64url');

const waitOf = (error: unknown): number => {
  if (!(error instanceof RateLimiterRes)) throw error;
  return Math.max(1, error.msBeforeNext);
};

export function createAccountLimits(config: Config, redis: Redis | undefined): AccountLimits {
  if (!config.rateLimits.enabled) {
    return { lockedFor: async () => 0, recordFailure: async () => ({ lockedFor: 0, lockStarted: false }), clearFailures: async () => undefined, consumeAddressCheck: async () => 0, consumeMail: async () => true };
  }
  const prefix = config.redisKeyPrefix;
  const { failures, seconds } = config.accountLockout;
  // The failure that reaches `failures` is the first one over the counter's points: it starts the block.
  const allowed = failures - 1;
  const failuresCounter: RateLimiterAbstract = requestCounter({ keyPrefix: `${prefix}account-failures`, points: allowed, duration: seconds, blockDuration: seconds }, redis);
  const addressChecks = requestCounter({ keyPrefix: `${prefix}password-check-ip`, points: config.rateLimits.login, duration: 60 }, redis);
  const mails = requestCounter({ keyPrefix: `${prefix}account-mail`, points: MAILS_PER_ADDRESS, duration: MAIL_WINDOW_SECONDS }, redis);

  return {
    async lockedFor(email) {
      const state = await failuresCounter.get(accountKey(email));
      return state && state.consumedPoints > allowed ? Math.max(1, state.msBeforeNext) : 0;
    },
    async recordFailure(email) {
      try {
        await failuresCounter.consume(accountKey(email));
        return { lockedFor: 0, lockStarted: false };
      } catch (error) {
        // Only the consume that first goes over sees exactly one point over; later ones are refused by lockedFor first.
        return { lockedFor: waitOf(error), lockStarted: (error as RateLimiterRes).consumedPoints === failures };
      }
    },
    async clearFailures(email) {
      await failuresCounter.delete(accountKey(email));
    },
    async consumeAddressCheck(ip) {
      try {
        await addressChecks.consume(ip);
        return 0;
      } catch (error) {
        return waitOf(error);
      }
    },
    async consumeMail(email) {
      try {
        await mails.consume(accountKey(email));
        return true;
      } catch (error) {
        waitOf(error);
        return false;
      }
    },
  };
}
