/**
 * What every protocol function receives: the configuration, the store, a way to find clients, the
 * signing keys, metrics and a clock. Built once by the server or the CLI (server.ts), and by tests.
 */
import type { Config } from '../config.js';
import type { Metrics } from '../ops/metrics.js';
import type { Repositories, Store } from '../store/index.js';
import type { TokenFamily } from '../store/schema.js';
import type { ClientDirectory, OAuthClient } from './clients/client.js';
import type { KeyRing } from './oidc/signing-keys.js';
import type { ResourceDirectory } from './resources/registry.js';
import type { ScopeRegistry } from './oauth/scopes.js';

/** Issues OpenID Connect ID tokens alongside access tokens when `openid` was granted. */
export interface IdTokenIssuer {
  /** `tx`: the repositories of the transaction that issues the tokens. */
  issue(tx: Repositories, input: {
    family: TokenFamily;
    client: OAuthClient;
    accessToken: string;
    nonce: string | null;
  }): Promise<string | undefined>;
}

export interface Context {
  config: Config;
  store: Store;
  clients: ClientDirectory;
  /** The resources tokens are issued for, as a short-lived copy (core/resources/registry.ts). */
  resources: ResourceDirectory;
  /** The platform's scopes (platform/scopes.ts). */
  scopes: ScopeRegistry;
  idTokens: IdTokenIssuer;
  signingKeys: KeyRing;
  /** What happened, for Prometheus: recorded after a transaction commits, never inside it. */
  metrics: Metrics;
  /** Epoch milliseconds; replaced in tests to move time. */
  now(): number;
}
