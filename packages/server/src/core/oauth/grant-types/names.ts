/**
 * The grant types the token endpoint offers (RFC 6749 §4, OAuth 2.1 §4, RFC 8628 §3.4) and how a
 * client's registration relates to them. Every client is registered for some of them (RFC 7591 §2
 * `grant_types`): refresh tokens are issued only to clients registered for `refresh_token`, and the
 * token endpoint answers a grant type the client is not registered for with `unauthorized_client`.
 * A new grant type is a name here and its handler in the registry (index.ts).
 */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT_TYPE] as const;

export type GrantType = (typeof GRANT_TYPES)[number];

/** The grant types that sign a user in and so start a client's tokens; refresh_token only continues them. */
export const SIGN_IN_GRANT_TYPES: readonly GrantType[] = ['authorization_code', DEVICE_CODE_GRANT_TYPE];

/**
 * What a client is registered for when it does not say: the code flow with rotating refresh tokens.
 * (RFC 7591 §2 defaults to authorization_code alone; a registration answer lists what was applied.)
 */
export const DEFAULT_GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token'];

/** RFC 7591 §2.1: the response type that goes with a grant type at the authorization endpoint, if any. */
const RESPONSE_TYPE: Record<GrantType, 'code' | undefined> = {
  authorization_code: 'code',
  refresh_token: undefined,
  [DEVICE_CODE_GRANT_TYPE]: undefined,
};

export function isGrantType(value: unknown): value is GrantType {
  return (GRANT_TYPES as readonly unknown[]).includes(value);
}

/** The response types a client registered for these grant types uses (RFC 7591 §2.1). */
export function responseTypesFor(grantTypes: readonly GrantType[]): string[] {
  return [...new Set(grantTypes.flatMap((grantType) => RESPONSE_TYPE[grantType] ?? []))];
}
