/**
 * The one map of the protocol's paths. Discovery publishes them, routes serve them, the security
 * headers open CORS on the ones browsers' apps call, and the region-agnostic front relays them.
 */
export const ENDPOINTS = {
  authorize: '/oauth/authorize',
  deviceAuthorization: '/oauth/device_authorization',
  /** RFC 8628 §3.3: where the user enters the code a device shows. */
  deviceVerification: '/device',
  token: '/oauth/token',
  revoke: '/oauth/revoke',
  introspect: '/oauth/introspect',
  userinfo: '/oauth/userinfo',
  register: '/oauth/register',
  /** What the consent page shows of a client (name, logo, verified), for the region front's picker. */
  clientDisplay: '/oauth/client_display',
  jwks: '/.well-known/jwks.json',
} as const;

export type Endpoint = keyof typeof ENDPOINTS;

/** The authorization server metadata document (RFC 8414 §3), also served as OpenID Connect Discovery's. */
export const METADATA_PATHS = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'] as const;

/** Endpoints any origin may call from a browser (RFC 8414 and OAuth 2.1 §3.2 for SPAs), besides discovery. */
export const CROSS_ORIGIN_ENDPOINTS: readonly string[] = [ENDPOINTS.token, ENDPOINTS.deviceAuthorization, ENDPOINTS.revoke, ENDPOINTS.introspect, ENDPOINTS.userinfo, ENDPOINTS.register];
