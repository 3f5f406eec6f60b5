/**
 * The device authorization endpoint (RFC 8628 §3.1, §3.2): a device without a browser asks for a
 * device code to poll with and a user code for the user to type at the verification page.
 */
import type { RequestMeta } from '../../audit.js';
import type { Context } from '../../context.js';
import { generateToken, hashToken } from '../../crypto/token-formats.js';
import { ENDPOINTS } from '../../endpoints.js';
import { findResource } from '../../resources/registry.js';
import { validateResourceIndicator } from '../authorize/request.js';
import { authenticateClient, type ClientCredentials } from '../client-auth.js';
import { OAuthError } from '../errors.js';
import { DEVICE_CODE_GRANT_TYPE } from '../grant-types/names.js';
import { formatScope, parseScope, validateRequestedScope } from '../scopes.js';
import { formatUserCode, generateUserCode, hashUserCode } from './user-code.js';

/** How long the user has to enter the code and decide (§3.2 `expires_in`). */
export const DEVICE_CODE_LIFETIME_SECONDS = 600;

/** §3.2. */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** The parameters of a device authorization request besides client authentication (§3.1, RFC 8707). */
export const DEVICE_AUTHORIZATION_PARAMETERS = ['scope', 'resource'] as const;

export async function requestDeviceAuthorization(
  ctx: Context,
  credentials: ClientCredentials,
  params: Partial<Record<(typeof DEVICE_AUTHORIZATION_PARAMETERS)[number], string>>,
  meta: RequestMeta = {},
): Promise<DeviceAuthorizationResponse> {
  const client = await authenticateClient(ctx, credentials, meta);
  if (!client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE)) {
    throw new OAuthError('unauthorized_client', `this client is not registered for the ${DEVICE_CODE_GRANT_TYPE} grant`);
  }
  const scopes = validateRequestedScope(parseScope(params.scope), client.scopeCeiling, ctx.scopes);
  if (params.resource !== undefined) {
    validateResourceIndicator(params.resource);
    if (!(await findResource(ctx.store, ctx.config, params.resource))) throw new OAuthError('invalid_target', `unknown resource ${params.resource}`);
  }

  const now = ctx.now();
  const deviceCode = generateToken('deviceCode');
  const userCode = await ctx.store.transaction(async (tx) => {
    // 20^8 codes: a draw that collides with a live request is all but impossible, and simply drawn again.
    for (;;) {
      const candidate = generateUserCode();
      const inserted = await tx.deviceAuthorizations.insert(
        {
          device_code_hash: hashToken(deviceCode),
          user_code_hash: hashUserCode(ctx.config.secretKey, candidate),
          client_id: client.id,
          scope: formatScope(scopes),
          resource: params.resource ?? null,
          status: 'pending',
          user_id: null,
          authorization_id: null,
          auth_time: null,
          amr: null,
          interval_seconds: ctx.config.deviceCode.intervalSeconds,
          last_polled_at: null,
          created_at: now,
          expires_at: now + DEVICE_CODE_LIFETIME_SECONDS * 1000,
          decided_at: null,
          consumed_at: null,
          family_id: null,
        },
        now,
      );
      if (inserted) return formatUserCode(candidate);
    }
  });
  const verificationUri = `${ctx.config.baseUrl}${ENDPOINTS.deviceVerification}`;
  return {
    device_code: deviceCode,
    user_code: userCode,
    verification_uri: verificationUri,
    verification_uri_complete: `${verificationUri}?${new URLSearchParams({ user_code: userCode })}`,
    expires_in: DEVICE_CODE_LIFETIME_SECONDS,
    interval: ctx.config.deviceCode.intervalSeconds,
  };
}
