/** Where the SDK keeps a signed-in user's tokens. Apps bring their own (Keychain, encrypted storage). */

export type AccessLevel = 'all' | 'organization' | 'project';

/** The claims of a verified ID token (OpenID Connect Core §2, §5.1). */
export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  auth_time?: number;
  nonce?: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  email?: string;
  email_verified?: boolean;
  [claim: string]: unknown;
}

/** Plain JSON, so any store can serialize it. */
export interface StoredTokens {
  accessToken: string;
  refreshToken: string | undefined;
  /** Epoch milliseconds at which the access token expires. */
  expiresAt: number;
  scope: string;
  /** How far the user narrowed the grant on the consent page. */
  accessLevel: AccessLevel;
  scopedOrganizations: string[];
  scopedProjects: string[];
  /**
   * Where this user's platform API lives: the region's `base_url` from the token response (or
   * discovery), without a trailing slash. Absent on a single-region deployment (the issuer serves it).
   */
  baseUrl?: string | undefined;
  /** The latest ID token, when `openid` was granted; verified before it was stored. */
  idToken?: string | undefined;
  /** Its claims: who signed in (`sub`), and what `profile` and `email` release. */
  idTokenClaims?: IdTokenClaims | undefined;
}

export interface TokenStore {
  get(): Promise<StoredTokens | undefined>;
  set(tokens: StoredTokens): Promise<void>;
  clear(): Promise<void>;
}

/** Keeps tokens for the life of the process: the default, and enough for tests and servers. */
export class MemoryTokenStore implements TokenStore {
  private tokens: StoredTokens | undefined;

  async get(): Promise<StoredTokens | undefined> {
    return this.tokens;
  }

  async set(tokens: StoredTokens): Promise<void> {
    this.tokens = tokens;
  }

  async clear(): Promise<void> {
    this.tokens = undefined;
  }
}
