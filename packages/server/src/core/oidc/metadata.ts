/** What discovery says about OpenID Connect (Discovery 1.0 §3). */
import { ID_TOKEN_ALGS } from '../clients/client.js';
import type { Endpoint } from '../endpoints.js';
import { ACR_VALUES_SUPPORTED } from './acr.js';
import { CLAIMS_SUPPORTED } from './claims.js';

export function openIdMetadata(endpoint: (name: Endpoint) => string): Record<string, unknown> {
  return {
    userinfo_endpoint: endpoint('userinfo'),
    jwks_uri: endpoint('jwks'),
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...ID_TOKEN_ALGS],
    claims_supported: CLAIMS_SUPPORTED,
    // Only id_token.acr is acted on; other requested claims are voluntary (Core §5.5) and follow the scopes.
    claims_parameter_supported: true,
    acr_values_supported: ACR_VALUES_SUPPORTED,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}
