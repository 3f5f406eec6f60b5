/** The token endpoint (RFC 6749 §3.2): authenticate the client, then hand off to its grant. */
import type { RequestMeta } from '../audit/audit.js';
import type { Context } from '../context.js';
import { authenticateClient, type ClientCredentials } from './client-auth.js';
import { OAuthError } from './errors.js';
import { exchangeAuthorizationCode } from './grants/authorization-code.js';
import { refreshTokens } from './grants/refresh-token.js';
import { regionFields } from '../regions/fields.js';
import type { TokenResponse } from './token-response.js';

export const GRANT_TYPES = ['authorization_code', 'refresh_token'] as const;

export async function handleTokenRequest(
  ctx: Context,
  credentials: ClientCredentials,
  params: Record<string, string | undefined>,
  meta: RequestMeta = {},
): Promise<TokenResponse> {
  const grantType = params.grant_type;
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
  if (!(GRANT_TYPES as readonly string[]).includes(grantType)) {
    throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
  }
  const client = await authenticateClient(ctx, credentials, meta);
  const response = grantType === 'authorization_code'
    ? await exchangeAuthorizationCode(ctx, client, params, meta)
    : await refreshTokens(ctx, client, params, meta);
  ctx.metrics.tokenIssued(grantType);
  return { ...response, ...regionFields(ctx.config) };
}
