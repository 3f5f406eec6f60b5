/** The token endpoint (RFC 6749 §3.2): authenticate the client, then hand off to its grant type. */
import type { RequestMeta } from '../audit.js';
import type { Context } from '../context.js';
import { authenticateClient, type ClientCredentials } from './client-auth.js';
import { OAuthError } from './errors.js';
import { GRANT_TYPE_HANDLERS } from './grant-types/index.js';
import { isGrantType } from './grant-types/names.js';
import { deploymentFields } from './deployment-fields.js';
import type { TokenResponse } from './token-response.js';

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
  const handler = GRANT_TYPE_HANDLERS[grantType];
  const grantParams = Object.fromEntries(handler.parameters.flatMap((name) => (params[name] === undefined ? [] : [[name, params[name]]])));
  const response = await handler.handle(ctx, client, grantParams, meta);
  ctx.metrics.tokenIssued(grantType);
  return { ...response, ...deploymentFields(ctx.config) };
}
