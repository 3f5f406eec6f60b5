/**
 * What every protocol function needs: the database, the configuration, a clock and a way to find
 * clients. Built once by the server or the CLI, and by tests with an in-memory database.
 */
import type { Kysely } from 'kysely';
import type { AccountLimits } from '../platform/accounts/account-limits.js';
import type { Config } from '../config.js';
import type { ClientDirectory, OAuthClient } from './clients/client.js';
import type { Db } from '../store/database.js';
import type { Metrics } from '../ops/metrics.js';
import type { KeyRing } from './oidc/signing-keys.js';
import type { Database, TokenFamily } from '../store/schema.js';

/** Issues OpenID Connect ID tokens alongside access tokens when `openid` was granted. */
export interface IdTokenIssuer {
  issue(db: Kysely<Database>, input: {
    family: TokenFamily;
    client: OAuthClient;
    accessToken: string;
    nonce: string | null;
  }): Promise<string | undefined>;
}

export interface Context {
  config: Config;
  db: Kysely<Database>;
  dialect: Db['dialect'];
  /** Every multi-step write of a protocol function goes through this. */
  transaction: Db['transaction'];
  /** Reads on hot paths go through this (one statement or a few, no writes). */
  reads: Db['reads'];
  clients: ClientDirectory;
  idTokens: IdTokenIssuer;
  signingKeys: KeyRing;
  /** Per-account limits on password and second-factor checks and on mails (shared through Redis when configured). */
  accountLimits: AccountLimits;
  /** What happened, for Prometheus: recorded after a transaction commits, never inside it. */
  metrics: Metrics;
  /** Epoch milliseconds; replaced in tests to move time. */
  now(): number;
}
