/**
 * The Fastify adapter: a preHandler that checks the bearer token (and scopes) and puts the
 * principal on `request.auth`, or answers the RFC 6750 error itself.
 *
 *   app.get('/notes', { preHandler: bearerAuth(verifier, { scopes: ['annotation:read'] }) }, (request) => list(request.auth!));
 *
 * Fastify is a peer of this package: only its types are imported here.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BearerError } from './errors.js';
import type { Principal } from './principal.js';
import type { Verifier } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by bearerAuth: who the request's access token stands for. */
    auth?: Principal;
  }
}

export interface BearerAuthOptions {
  /** Every scope the route needs (`:write` covers `:read`). */
  scopes?: readonly string[];
}

/** Answers a BearerError: its status, headers (WWW-Authenticate) and JSON body. Use it in a setErrorHandler too. */
export function sendBearerError(reply: FastifyReply, error: BearerError): FastifyReply {
  return reply.status(error.status).headers(error.headers).send(error.toJSON());
}

export function bearerAuth(verifier: Verifier, options: BearerAuthOptions = {}): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  return async (request, reply) => {
    try {
      const principal = await verifier.verify(request.headers.authorization);
      if (options.scopes) verifier.requireScopes(principal, options.scopes);
      request.auth = principal;
      return undefined;
    } catch (error) {
      if (error instanceof BearerError) return sendBearerError(reply, error);
      throw error;
    }
  };
}
