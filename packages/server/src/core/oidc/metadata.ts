/** What discovery says about OpenID Connect (Discovery 1.0 §3), merged into both metadata documents. */
import type { Config } from '../../config.js';
import { ID_TOKEN_ALGS } from '../clients/client.js';
import type { Metadata } from '../oauth/discovery.js';
import { ACR_VALUES_SUPPORTED } from './acr.js';
import { CLAIMS_SUPPORTED } from './claims.js';

export function openIdMetadata(config: Config): Metadata {
  return {
    userinfo_endpoint: `${config.baseUrl}/oauth/userinfo`,
    jwks_uri: `${config.baseUrl}/.well-known/jwks.json`,
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
