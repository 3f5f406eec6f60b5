/**
 * Answers for when Tessera cannot serve a request now: its database is away
 * (`DependencyUnavailableError`), or the instance is starting or shutting down. A `503
 * temporarily_unavailable` with `Retry-After` tells a client to try again; never a refusal that
 * would make it discard good credentials. Programs get JSON, people the error page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Health } from '../ops/health.js';
import { OAuthError } from '../core/oauth/errors.js';
import { ErrorPage } from './pages/error.js';
import { sendPage } from './pages/render.js';
import { RETRY_AFTER_SECONDS } from '../store/unavailable.js';
import { sendOAuthError } from './oauth-reply.js';
import { answersPrograms } from './security.js';

export function sendUnavailable(request: FastifyRequest, reply: FastifyReply, platformName: string, description: string): FastifyReply {
  reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  if (answersPrograms(request.url)) return sendOAuthError(reply, new OAuthError('temporarily_unavailable', description));
  const message = `${description[0]!.toUpperCase()}${description.slice(1)}. Please try again in a few seconds.`;
  return sendPage(reply, ErrorPage({ platformName, title: 'Temporarily unavailable', message }), 503);
}

const PROBES = new Set(['/healthz', '/readyz']);

/**
 * While the instance is starting (its database not ready yet) or stopping (a shutdown signal came),
 * every request but the probes is answered 503. A request that arrives on a kept-alive connection
 * during a shutdown is told to close it, so the client's next try goes to another instance.
 */
export function refuseUnlessServing(app: FastifyInstance, health: Health, platformName: string): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (health.phase === 'serving' || PROBES.has(request.routeOptions.url ?? '')) return done();
    if (health.phase === 'stopping') reply.header('connection', 'close');
    sendUnavailable(request, reply, platformName, health.phase === 'starting' ? 'the server is starting' : 'the server is shutting down');
  });
}
