/**
 * The policies every Tessera HTTP server applies, the main app and the regional front alike:
 * security headers on every response, open CORS on the OAuth endpoints only, and a log that never
 * holds credentials.
 */
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

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
  const headers = helmetHeaders({
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
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}

/**
 * The headers helmet sets with these options. Without nonces or functions they are the same for
 * every response, so they are taken once from a recording response; running helmet's middleware
 * chain on every request cost about a tenth of an introspection.
 */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not set its headers synchronously');
  return headers;
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
