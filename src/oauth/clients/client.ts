/** The one shape every kind of client takes once resolved: registered, app, dynamic or CIMD. */
import type { ClientKind } from '../../store/schema.js';

export interface OAuthClient {
  id: string;
  kind: ClientKind;
  name: string;
  description: string | null;
  logoUri: string | null;
  redirectUris: string[];
  isPublic: boolean;
  /** SHA-256 of the client secret; null for public clients. */
  secretHash: string | null;
  /** null: any scope in the registry. */
  scopeCeiling: string[] | null;
  verified: boolean;
  accessTokenTtl: number | null;
  refreshTokenTtl: number | null;
}

/** Finds a client by id, whatever kind it is. Implementations: the clients table, CIMD. */
export interface ClientResolver {
  resolve(clientId: string): Promise<OAuthClient | undefined>;
}
