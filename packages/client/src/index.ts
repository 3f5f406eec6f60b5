/** The client SDK for third-party apps: "Sign in with <Platform>" against Tessera, then the platform API. */
export type { AuthorizationParams, AuthorizationRequest, CallbackExpectations } from './authorization.js';
export { REFRESH_MARGIN_MS, TesseraClient, type AuthorizationServerMetadata, type TesseraClientOptions, type UserInfo } from './client.js';
export { DEVICE_CODE_GRANT_TYPE, type DeviceCode, type DeviceCodeOptions } from './device-code.js';
export { InvalidResponseError, SignedOutError, SignInTimeoutError, TesseraError } from './errors.js';
export { CLOCK_SKEW_SECONDS } from './id-token.js';
export type { DiscoveryFailure, Organization, Project, ProjectDiscovery } from './projects.js';
export { MemoryTokenStore, type AccessLevel, type IdTokenClaims, type StoredTokens, type TokenStore } from './token-store.js';
