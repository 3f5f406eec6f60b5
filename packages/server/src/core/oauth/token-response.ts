/** The token endpoint's success body (RFC 6749 §5.1), with the grant's narrowing added. */
import type { TokenFamily } from '../../store/schema.js';
import type { DeploymentFields } from './deployment-fields.js';
import { narrowingOf } from './narrowing.js';
import type { IssuedTokens } from './tokens.js';

/** The deployment's region fields are added by the token endpoint (`handleTokenRequest`) to every grant's answer. */
export interface TokenResponse extends DeploymentFields {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** Only for a client registered for the refresh_token grant. */
  refresh_token?: string;
  scope: string;
  /** `all`, `organization` or `project`: how far the user narrowed the grant. */
  access_level: TokenFamily['access_level'];
  scoped_organizations: string[];
  scoped_projects: string[];
  id_token?: string;
}

export function tokenResponse(issued: IssuedTokens, family: TokenFamily, idToken?: string): TokenResponse {
  const narrowing = narrowingOf(family);
  return {
    access_token: issued.accessToken,
    token_type: 'Bearer',
    expires_in: issued.accessExpiresIn,
    ...(issued.refreshToken === undefined ? {} : { refresh_token: issued.refreshToken }),
    scope: issued.scope,
    access_level: narrowing.accessLevel,
    scoped_organizations: narrowing.organizationIds,
    scoped_projects: narrowing.projectIds,
    ...(idToken ? { id_token: idToken } : {}),
  };
}
