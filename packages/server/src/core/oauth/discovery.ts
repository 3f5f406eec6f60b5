/** Authorization server metadata (RFC 8414). The issuer comes from configuration, never a Host header. */
import type { Config } from '../../config.js';
import { TOKEN_ENDPOINT_AUTH_METHODS } from './client-auth.js';
import { SUPPORTED_SCOPES } from './scopes.js';
import { GRANT_TYPES } from './grant-types/index.js';

export type Metadata = Record<string, unknown>;

/** Sections added by other capabilities (OpenID Connect, registration, CIMD) register here. */
export type MetadataContributor = (config: Config) => Metadata;

export function authorizationServerMetadata(config: Config, contributors: MetadataContributor[] = []): Metadata {
  // A regional deployment serves its endpoints at its own URL under the shared (front) issuer.
  const base = config.baseUrl;
  const metadata: Metadata = {
    issuer: config.issuer,
    authorization_endpoint: `${base}/oauth/authorize`,
    token_endpoint: `${base}/oauth/token`,
    revocation_endpoint: `${base}/oauth/revoke`,
    introspection_endpoint: `${base}/oauth/introspect`,
    scopes_supported: SUPPORTED_SCOPES,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [...GRANT_TYPES],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    introspection_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
  };
  for (const contribute of contributors) Object.assign(metadata, contribute(config));
  return metadata;
}
