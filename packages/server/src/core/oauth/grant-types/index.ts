/**
 * The grant types the token endpoint dispatches to, one module each (RFC 6749 §4, RFC 8628 §3.4):
 * a handler names the parameters it reads and turns them into a token response. A new grant type
 * is a name in names.ts, a module here implementing handler.ts, and a line in `GRANT_TYPE_HANDLERS`.
 */
import { authorizationCodeGrant } from './authorization-code.js';
import { deviceCodeGrant } from './device-code.js';
import type { GrantTypeHandler } from './handler.js';
import { DEVICE_CODE_GRANT_TYPE, type GrantType } from './names.js';
import { refreshTokenGrant } from './refresh-token.js';

export const GRANT_TYPE_HANDLERS: Record<GrantType, GrantTypeHandler> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  [DEVICE_CODE_GRANT_TYPE]: deviceCodeGrant,
};
