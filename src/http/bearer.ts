/**
 * Bearer token transport (RFC 6750): reading the token from a request and answering errors with
 * a `WWW-Authenticate: Bearer` challenge. Shared by userinfo and the resource-server toolkit.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError } from '../oauth/errors.js';

/**
 * The token from `Authorization: Bearer` (§2.1) or, on a form POST, the `access_token` field
 * (§2.2). Sending it both ways, or twice, is invalid_request (§2). Undefined when absent.
 */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const body = request.body as Record<string, unknown> | undefined;
  const fromBody = request.method === 'POST' && request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? body?.access_token : undefined;
  if (header !== undefined && fromBody !== undefined) throw new OAuthError('invalid_request', 'send the access token in one place only');
  if (fromBody !== undefined) {
    if (typeof fromBody !== 'string' || !fromBody) throw new OAuthError('invalid_request', 'access_token must be given once');
    return fromBody;
  }
  if (header === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match) throw new OAuthError('invalid_request', 'the Authorization header must be "Bearer <token>"');
  return match[1];
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '')}"`;
}

export interface BearerChallenge {
  realm: string;
  /** RFC 9728 §5.1: where a client finds the protected resource's metadata. */
  resourceMetadata?: string;
}

/**
 * RFC 6750 §3: 401 with only the realm when no token was sent (§3.1), otherwise the error, its
 * description, and the scope a 403 lacked.
 */
export function sendBearerError(reply: FastifyReply, challenge: BearerChallenge, error: OAuthError | undefined, requiredScope?: string): FastifyReply {
  const params = [`realm=${quoted(challenge.realm)}`];
  if (challenge.resourceMetadata) params.push(`resource_metadata=${quoted(challenge.resourceMetadata)}`);
  if (error) params.push(`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`);
  if (requiredScope) params.push(`scope=${quoted(requiredScope)}`);
  reply.header('www-authenticate', `Bearer ${params.join(', ')}`).header('cache-control', 'no-store');
  if (!error) return reply.status(401).send({ error: 'invalid_token', error_description: 'an access token is required' });
  return reply.status(error.status).send({ ...error.toJSON(), ...(requiredScope ? { scope: requiredScope } : {}) });
}
