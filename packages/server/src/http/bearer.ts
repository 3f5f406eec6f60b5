/**
 * Bearer token transport (RFC 6750): reading the token from a request and answering errors with
 * a `WWW-Authenticate: Bearer` challenge. Shared by userinfo and the resource-server toolkit.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError } from '../core/oauth/errors.js';

/** Where a resource takes the token besides the Authorization header (§2.1), which every one takes. */
export interface BearerMethods {
  /** The `access_token` field of a form POST (§2.2); RFC 9728 metadata then lists `body`. */
  formBody: boolean;
}

/**
 * The token from `Authorization: Bearer` (§2.1) or, where the resource takes it, the
 * `access_token` field of a form POST (§2.2). A token where it is not taken (a URL query, §2.3,
 * never) is invalid_request rather than ignored, so the caller learns where to send it; so is
 * sending it two ways, or twice (§2). Undefined when absent.
 */
export function bearerToken(request: FastifyRequest, methods: BearerMethods): string | undefined {
  const header = request.headers.authorization;
  if ((request.query as Record<string, unknown> | undefined)?.access_token !== undefined) {
    throw new OAuthError('invalid_request', 'send the access token in the Authorization header, never in the URL');
  }
  const body = request.body as Record<string, unknown> | undefined;
  const fromBody = request.method === 'POST' && request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? body?.access_token : undefined;
  if (fromBody !== undefined && !methods.formBody) {
    throw new OAuthError('invalid_request', 'this API takes the access token in the Authorization header only, not in a form body');
  }
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
