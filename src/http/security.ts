/**
 * The policies every Tessera HTTP server applies, the main app and the regional front alike:
 * security headers on every response, open CORS on the OAuth endpoints only, and a log that never
 * holds credentials.
 */
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify';
import helmet from 'helmet';

/** Paths any origin may call from a browser (RFC 8414 metadata, token, revocation, introspection). */
const CORS_PATHS = /^\/(\.well-known\/|oauth\/(token|revoke|introspect|userinfo|register)(\?|$))/;

/**
 * What the log may hold of a request: its path, never its query string (one-time links carry
 * tokens there, as in /verify-email?token=), headers (credentials, cookies) or body.
 */
const LOG_SERIALIZERS = {
  req: (request: FastifyRequest) => ({ method: request.method, path: request.url.split('?')[0], remoteAddress: request.ip }),
};
const LOG_REDACT = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'];

export function loggerOptions(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  return typeof logger === 'object' ? { ...logger, serializers: LOG_SERIALIZERS, redact: LOG_REDACT } : logger ?? false;
}

/** CSP with `frame-ancestors 'none'`, nosniff, no-referrer, and HSTS when served over https. */
export function addSecurityHeaders(app: FastifyInstance, secure: boolean): void {
  // Built once: @fastify/helmet would rebuild the middleware on every request.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'https:', 'data:'],
        styleSrc: ["'self'"],
        scriptSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        // No form-action: browsers apply it to the redirect after the consent form, which must
        // reach the client's own redirect URI.
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: secure ? { maxAge: 31536000, includeSubDomains: true } : false,
    crossOriginResourcePolicy: false,
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onRequest', (request, reply, done) => securityHeaders(request.raw, reply.raw, (error) => done(error as Error | undefined)));
}

const OPEN_CORS = { origin: '*', methods: ['GET', 'POST'], allowedHeaders: ['Authorization', 'Content-Type'], maxAge: 600 };
const NO_CORS = { origin: false };

/** Any origin on `CORS_PATHS`, none on pages. */
export async function registerCors(app: FastifyInstance): Promise<void> {
  await app.register(cors, {
    hook: 'onRequest',
    delegator: (request, callback) => callback(null, CORS_PATHS.test(request.url) ? OPEN_CORS : NO_CORS),
  });
}
