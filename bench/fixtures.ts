/** What the benchmark hands both servers and reads back: one client and pre-minted token pairs. */

/** Every pre-minted pair belongs to a token family (Tessera) or grant (node-oidc-provider) of its own. */
export interface BenchFixtures {
  clientId: string;
  clientSecret: string;
  /** Distinct single-use refresh tokens: the refresh run presents each exactly once. */
  refreshTokens: string[];
  /** Access tokens the introspection run cycles through. */
  accessTokens: string[];
}

/** The resource server both servers issue for, so neither response carries an ID token. */
export const RESOURCE = 'https://api.bench.example/';
export const SCOPE = 'project:read';
export const ACCOUNT_ID = 'bench-user';
