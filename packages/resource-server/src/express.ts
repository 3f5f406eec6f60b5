/**
 * The Express adapter: middleware that checks the bearer token (and scopes) and puts the principal
 * on `req.auth`, or answers the RFC 6750 error itself; and an error handler for BearerErrors thrown
 * later (by checkProjectAccess in a route, say).
 *
 *   app.get('/notes', bearerAuth(verifier, { scopes: ['annotation:read'] }), (req, res) => res.json(list(req.auth!)));
 *   app.use(bearerErrorHandler());
 *
 * Express is a peer of this package: only its types are imported here.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { BearerError } from './errors.js';
import type { Principal } from './principal.js';
import type { Verifier } from './verifier.js';

declare global {
  namespace Express {
    interface Request {
      /** Set by bearerAuth: who the request's access token stands for. */
      auth?: Principal;
    }
  }
}

export interface BearerAuthOptions {
  /** Every scope the route needs (`:write` covers `:read`). */
  scopes?: readonly string[];
}

/** Answers a BearerError: its status, headers (WWW-Authenticate) and JSON body. */
export function sendBearerError(response: Response, error: BearerError): void {
  response.status(error.status).set(error.headers).json(error.toJSON());
}

export function bearerAuth(verifier: Verifier, options: BearerAuthOptions = {}): RequestHandler {
  // Express 5 passes a rejected promise on to the error handlers.
  return async (request, response, next) => {
    let principal: Principal;
    try {
      principal = await verifier.verify(request.headers.authorization);
      if (options.scopes) verifier.requireScopes(principal, options.scopes);
    } catch (error) {
      if (error instanceof BearerError) return sendBearerError(response, error);
      throw error;
    }
    request.auth = principal;
    next();
  };
}

export function bearerErrorHandler(): ErrorRequestHandler {
  return (error: unknown, _request, response, next) => {
    if (error instanceof BearerError) sendBearerError(response, error);
    else next(error);
  };
}
