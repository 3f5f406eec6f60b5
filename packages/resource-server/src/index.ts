/** Check Tessera access tokens in a resource server: createVerifier, the principal shape, the access rules. */
export { checkOrganizationAccess, checkProjectAccess, scopeSatisfies } from './access.js';
export { BearerError, type BearerErrorCode } from './errors.js';
export type { IntrospectionCredentials } from './introspection.js';
export type { AccessLevel, Principal } from './principal.js';
export { createVerifier, type ProtectedResourceMetadata, type Verifier, type VerifierOptions } from './verifier.js';
