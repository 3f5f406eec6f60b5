/** Replies for the OAuth endpoints: JSON, never cached (RFC 6749 §5.1), errors per §5.2. */
import type { FastifyReply } from 'fastify';
import type { OAuthError } from '../oauth/errors.js';

export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

export function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  noStore(reply).status(error.status);
  // RFC 6749 §5.2: a 401 names the authentication scheme the client should use.
  if (error.code === 'invalid_client') reply.header('www-authenticate', 'Basic realm="tessera"');
  return reply.send(error.toJSON());
}
