/** The client SDK for third-party apps: "Sign in with <Platform>" against Tessera, then the platform API. */
export {
  REFRESH_MARGIN_MS,
  TesseraClient,
  type AuthorizationParams,
  type AuthorizationRequest,
  type AuthorizationServerMetadata,
  type TesseraClientOptions,
  type UserInfo,
} from './client.js';
export { InvalidResponseError, SignedOutError, TesseraError } from './errors.js';
export type { DiscoveryFailure, Organization, Project, ProjectDiscovery } from './projects.js';
export { MemoryTokenStore, type AccessLevel, type StoredTokens, type TokenStore } from './token-store.js';
