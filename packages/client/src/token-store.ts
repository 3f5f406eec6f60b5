/** Where the SDK keeps a signed-in user's tokens. Apps bring their own (Keychain, encrypted storage). */

export type AccessLevel = 'all' | 'organization' | 'project';

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
