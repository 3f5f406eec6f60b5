/** The paths the front serves; each is also a path every region serves at its own base URL. */
export const FRONT_ENDPOINTS = {
  authorize: '/oauth/authorize',
  token: '/oauth/token',
  revoke: '/oauth/revoke',
  introspect: '/oauth/introspect',
  userinfo: '/oauth/userinfo',
  register: '/oauth/register',
  jwks: '/.well-known/jwks.json',
} as const;

export const METADATA_PATHS = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'] as const;
