/**
 * The policies every Tessera HTTP server applies, the main app and the regional front alike:
 * security headers on every response, open CORS on the OAuth endpoints only, and a log that never
 * holds credentials.
 */
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CROSS_ORIGIN_ENDPOINTS } from '../core/endpoints.js';
import { pino, type Logger, type LoggerOptions } from 'pino';

const WELL_KNOWN = '/.well-known/';

/**
 * Whether a path is called by programs, which are answered in JSON, rather than opened by people,
 * who get a page: the OAuth endpoints, discovery, the platform API and the probes.
 */
export function answersPrograms(url: string): boolean {
  const path = url.split('?')[0]!;
  return CROSS_ORIGIN_ENDPOINTS.includes(path) || path.startsWith(WELL_KNOWN) || path.startsWith('/api/') || path === '/healthz' || path === '/readyz';
}

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

/**
 * The logger of a server process (JSON lines on stdout), made before the server so that what
 * happens while it starts (the database not answering yet) is logged the same way.
 */
export function createLogger(level: string): Logger {
  return pino({ level, serializers: LOG_SERIALIZERS, redact: LOG_REDACT } as LoggerOptions);
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

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route's own CORS options, which @fastify/cors reads before its global ones. */
    cors?: FastifyCorsOptions | false;
  }
}

const OPEN_CORS: FastifyCorsOptions = { origin: '*', methods: ['GET', 'POST'], allowedHeaders: ['Authorization', 'Content-Type'], maxAge: 600 };

/**
 * Any origin on the OAuth endpoints and `/.well-known/`, none on pages. CORS is off by default and
 * each open route carries its options in its config, so @fastify/cors works from fixed options
 * rather than resolving them on every request. Preflights reach the OPTIONS route of their path.
 */
export async function registerCors(app: FastifyInstance): Promise<void> {
  await app.register(cors, { hook: 'onRequest', origin: false });
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(WELL_KNOWN) || CROSS_ORIGIN_ENDPOINTS.includes(route.url)) route.config = { ...route.config, cors: OPEN_CORS };
  });
  // Answered by @fastify/cors in its hook; the handler runs only for an OPTIONS that is no preflight.
  for (const path of [`${WELL_KNOWN}*`, ...CROSS_ORIGIN_ENDPOINTS]) app.options(path, (_request, reply) => reply.code(204).send());
}
