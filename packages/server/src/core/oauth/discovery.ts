/**
 * Authorization server metadata (RFC 8414), with OpenID Connect Discovery's fields, served at both
 * well-known paths so the two never disagree. The issuer comes from configuration, never a Host
 * header; a regional deployment serves its endpoints at its own URL under the shared (front)
 * issuer, and names its region.
 */
import type { Context } from '../context.js';
import { ENDPOINTS } from '../endpoints.js';
import { openIdMetadata } from '../oidc/metadata.js';
import { TOKEN_ENDPOINT_AUTH_METHODS } from '../clients/client.js';
import { deploymentFields } from './deployment-fields.js';
import { GRANT_TYPES } from './grant-types/names.js';

export type Metadata = Record<string, unknown>;

export function authorizationServerMetadata(ctx: Pick<Context, 'config' | 'scopes'>): Metadata {
  const endpoint = (name: keyof typeof ENDPOINTS) => `${ctx.config.baseUrl}${ENDPOINTS[name]}`;
  return {
    issuer: ctx.config.issuer,
    authorization_endpoint: endpoint('authorize'),
    token_endpoint: endpoint('token'),
    // RFC 8628 §4.
    device_authorization_endpoint: endpoint('deviceAuthorization'),
    revocation_endpoint: endpoint('revoke'),
    introspection_endpoint: endpoint('introspect'),
    registration_endpoint: endpoint('register'),
    scopes_supported: ctx.scopes.supported,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [...GRANT_TYPES],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    introspection_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    // Client ids that are https URLs are Client ID Metadata Documents (core/clients/cimd/).
    client_id_metadata_document_supported: true,
    ...openIdMetadata(endpoint),
    ...deploymentFields(ctx.config),
  };
}
