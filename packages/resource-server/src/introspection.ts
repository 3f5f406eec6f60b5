/**
 * Checking an opaque token by asking the authorization server (RFC 7662), with this resource
 * server's own credentials (client_secret_basic). The answer is checked, not just `active`: it must
 * be an access token, from this issuer, for this resource, and not expired.
 */
import { basicAuthorization, requestJson } from './http.js';
import { principalFromClaims, type Principal } from './principal.js';

export interface IntrospectionCredentials {
  clientId: string;
  clientSecret: string;
}

export interface Expected {
  issuer: string;
  resource: string;
  /** Epoch milliseconds. */
  now: number;
}

/** The introspection answer; BearerError (503 or 500) when it could not be had. */
export function introspect(endpoint: string, credentials: IntrospectionCredentials, token: string, timeoutMs: number): Promise<Record<string, unknown>> {
  return requestJson(
    endpoint,
    {
      method: 'POST',
      headers: {
        authorization: basicAuthorization(credentials.clientId, credentials.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    },
    timeoutMs,
    'introspection',
  );
}

/** The principal an introspection answer describes, or why the token is not valid here. */
export function principalFromIntrospection(answer: Record<string, unknown>, expected: Expected): Principal | string {
  if (answer.active !== true) return 'the access token is invalid, expired or revoked';
  // RFC 7662 §2.2: Tessera answers for refresh tokens too, which are no bearer credentials.
  if (typeof answer.token_type === 'string' && answer.token_type.toLowerCase() !== 'bearer') return 'the token is not an access token';
  if (answer.iss !== undefined && answer.iss !== expected.issuer) return 'the access token was issued by another authorization server';
  // RFC 8707: a token bound to a resource is for that resource alone.
  const audiences = typeof answer.aud === 'string' ? [answer.aud] : Array.isArray(answer.aud) ? answer.aud : answer.aud === undefined ? undefined : [];
  if (audiences && !audiences.includes(expected.resource)) return 'the access token was issued for another resource';
  const principal = principalFromClaims(answer);
  if (typeof principal === 'string') return principal;
  if (principal.expiresAt <= expected.now) return 'the access token has expired';
  return principal;
}
