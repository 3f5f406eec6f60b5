/** The token endpoint (RFC 6749 §3.2): authenticate the client, then hand off to its grant. */
import type { RequestMeta } from '../audit.js';
import type { Context } from '../context.js';
import { authenticateClient, type ClientCredentials } from './client-auth.js';
import { OAuthError } from './errors.js';
import type { OAuthClient } from '../clients/client.js';
import { isGrantType, type GrantType } from './grant-types/index.js';
import { exchangeAuthorizationCode } from './grant-types/authorization-code.js';
import { refreshTokens } from './grant-types/refresh-token.js';
import { regionFields } from '../../platform/regions/fields.js';
import type { TokenResponse } from './token-response.js';

type Grant = (ctx: Context, client: OAuthClient, params: Record<string, string | undefined>, meta: RequestMeta) => Promise<TokenResponse>;

/** Each grant type's handler (src/oauth/grants/). */
const GRANTS: Record<GrantType, Grant> = {
  authorization_code: exchangeAuthorizationCode,
  refresh_token: refreshTokens,
};

export async function handleTokenRequest(
  ctx: Context,
  credentials: ClientCredentials,
  params: Record<string, string | undefined>,
  meta: RequestMeta = {},
): Promise<TokenResponse> {
  const grantType = params.grant_type;
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
  if (!isGrantType(grantType)) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
  const client = await authenticateClient(ctx, credentials, meta);
  // RFC 6749 §5.2: a client may use only the grant types it is registered for (RFC 7591 §2).
  if (!client.grantTypes.includes(grantType)) throw new OAuthError('unauthorized_client', `this client is not registered for the ${grantType} grant`);
  const response = await GRANTS[grantType](ctx, client, params, meta);
  ctx.metrics.tokenIssued(grantType);
  return { ...response, ...regionFields(ctx.config) };
}
