/** Replies for the OAuth endpoints: JSON, never cached (RFC 6749 §5.1), errors per §5.2; the JWKS. */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthError } from '../core/oauth/errors.js';

export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

/** How long relying parties may keep a JWKS: shorter than the signing key publish delay, so a new key is fetched before it signs. */
export const JWKS_MAX_AGE = 300;

/** A JWK Set with a strong ETag, so relying parties that poll it revalidate with a 304. */
export function sendJwks(request: FastifyRequest, reply: FastifyReply, body: string, cacheControl: string): FastifyReply {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  reply.header('cache-control', cacheControl).header('etag', etag).header('content-type', 'application/jwk-set+json');
  if (request.headers['if-none-match'] === etag) return reply.status(304).send();
  return reply.send(body);
}

export function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  noStore(reply).status(error.status);
  // RFC 6749 §5.2: a 401 names the authentication scheme the client should use.
  if (error.code === 'invalid_client') reply.header('www-authenticate', 'Basic realm="tessera"');
  return reply.send(error.toJSON());
}
