/**
 * Builds the Fastify application: plugins (cookies, forms, CSRF, security headers, CORS, rate
 * limits), the error handler, and every route group. Routes are thin: they read the request, call
 * a protocol function and write its answer.
 */
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { isHttps } from '../config.js';
import type { PlatformContext } from '../platform/context.js';
import type { Health } from '../ops/health.js';
import { AuthorizationPageError } from '../core/oauth/authorize/request.js';
import { otherRegionLinks } from '../platform/regions/picker.js';
import { OAuthError } from '../core/oauth/errors.js';
import { ErrorPage } from './pages/error.js';
import { sendPage } from './pages/render.js';
import { DependencyUnavailableError } from '../store/unavailable.js';
import { instrumentRequests } from './metrics.js';
import { sendOAuthError } from './oauth-reply.js';
import { addSecurityHeaders, loggerOptions, registerCors } from './security.js';
import { clientRateLimiter, perIpCounterStore, tooManyRequestsBody } from './rate-limits.js';
import { refuseUnlessServing, sendUnavailable } from './unavailable.js';
import { accountRoutes } from './routes/account.js';
import { authorizeRoutes } from './routes/authorize.js';
import { deviceRoutes } from './routes/device.js';
import { passwordResetRoutes } from './routes/password-reset.js';
import { discoveryRoutes } from './routes/discovery.js';
import { introspectRoutes } from './routes/introspect.js';
import { probeRoutes } from './routes/probes.js';
import { revokeRoutes } from './routes/revoke.js';
import { tokenRoutes } from './routes/token.js';
import { oidcRoutes } from './routes/oidc.js';
import { registerRoutes } from './routes/register.js';
import { clientDisplayRoutes } from './routes/client-display.js';
import { platformApiRoutes } from './routes/platform-api.js';
import { securitySettingsRoutes } from './routes/security-settings.js';
import { connectedAppsRoutes } from './routes/connected-apps.js';
import { apiKeysRoutes } from './routes/api-keys.js';
import { secretScanningRoutes } from './routes/secret-scanning.js';
import { developerAppsRoutes } from './routes/developer-apps.js';
import { activityRoutes } from './routes/activity.js';

export interface AppOptions {
  logger?: FastifyServerOptions['logger'];
  /** The process's logger (src/http/security.ts createLogger), instead of `logger` options. */
  loggerInstance?: FastifyBaseLogger;
  /** The runtime's phase and readiness, for the probes and the request gate. */
  health: Health;
  redis?: Redis;
}

export async function buildApp(ctx: PlatformContext, options: AppOptions): Promise<FastifyInstance> {
  const logging: Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> = options.loggerInstance
    ? { loggerInstance: options.loggerInstance }
    : { logger: loggerOptions(options.logger) };
  const app = Fastify({
    ...logging,
    trustProxy: ctx.config.trustProxy.length > 0 ? ctx.config.trustProxy : false,
    // During a shutdown, requests on kept-alive connections are answered by refuseUnlessServing, in the OAuth error format.
    return503OnClosing: false,
    bodyLimit: 64 * 1024,
    // Query strings and bodies are parsed by Node's querystring, which turns repeats into arrays
    // that the OAuth parameter readers refuse.
    routerOptions: { maxParamLength: 256 },
  });

  const secret = createHash('sha256').update('cookie-signing').update(ctx.config.secretKey).digest('base64url');
  await app.register(cookie, { secret });
  await app.register(formbody);
  await app.register(csrf, {
    cookieKey: 'tessera_csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: isHttps(ctx.config.baseUrl), signed: true },
    getToken: (request) => (request.body as Record<string, string> | undefined)?._csrf,
  });
  addSecurityHeaders(app, isHttps(ctx.config.baseUrl));
  refuseUnlessServing(app, options.health, ctx.config.platformName);
  if (ctx.config.metricsPort !== undefined) instrumentRequests(app, ctx.metrics);
  await registerCors(app);
  await app.register(rateLimit, {
    global: false,
    store: perIpCounterStore(`${ctx.config.redisKeyPrefix}rl-ip:`, options.redis),
    errorResponseBuilder: (_request, context) => ({ statusCode: 429, ...tooManyRequestsBody(Math.ceil(context.ttl / 1000)) }),
  });
  if (ctx.config.rateLimits.enabled) app.addHook('preHandler', clientRateLimiter(ctx, options.redis));
  await app.register(fastifyStatic, {
    root: fileURLToPath(new URL('../../static/', import.meta.url)),
    prefix: '/static/',
    maxAge: '1h',
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof OAuthError) return sendOAuthError(reply, error);
    // Logged once when the database goes away and once when it is back (src/availability.ts), not per request.
    if (error instanceof DependencyUnavailableError) return sendUnavailable(request, reply, ctx.config.platformName, 'the service is temporarily unavailable');
    if (error instanceof AuthorizationPageError) {
      const { region, regions, issuer } = ctx.config;
      // An app registered in another region is unknown here: offer the others, through the front.
      const offerRegions = error.code === 'invalid_client' && region && request.method === 'GET';
      const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
      const actions = offerRegions ? otherRegionLinks(issuer, regions, region, rawQuery) : undefined;
      const message = offerRegions ? `${error.description} Your account may be in another region.` : error.description;
      return sendPage(reply, ErrorPage({ platformName: ctx.config.platformName, title: 'Authorization failed', message, actions }), 400);
    }
    const err = error as { statusCode?: number; code?: string; message?: string; error?: string; error_description?: string };
    const status = err.statusCode ?? 500;
    if (status === 429) {
      return reply.status(429).send({ error: 'too_many_requests', error_description: err.error_description ?? 'Rate limit exceeded.' });
    }
    if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
      return sendPage(reply, ErrorPage({ platformName: ctx.config.platformName, title: 'Form expired', message: 'This form expired or did not come from this site. Go back, reload the page and try again.' }), 403);
    }
    if (status >= 400 && status < 500) {
      // Malformed bodies, wrong content types, oversized requests: a clear invalid_request.
      return sendOAuthError(reply, new OAuthError('invalid_request', err.message ?? 'malformed request', status));
    }
    request.log.error({ err: { message: err.message, code: err.code } }, 'request failed');
    return sendOAuthError(reply, new OAuthError('server_error', 'the server could not complete the request'));
  });

  app.setNotFoundHandler((_request, reply) =>
    sendPage(reply, ErrorPage({ platformName: ctx.config.platformName, title: 'Not found', message: 'There is nothing at this address.' }), 404),
  );

  await probeRoutes(app, options.health);
  await discoveryRoutes(app, ctx);
  await tokenRoutes(app, ctx);
  await revokeRoutes(app, ctx);
  await introspectRoutes(app, ctx);
  await authorizeRoutes(app, ctx);
  await deviceRoutes(app, ctx, options.redis);
  await registerRoutes(app, ctx);
  await clientDisplayRoutes(app, ctx);
  await oidcRoutes(app, ctx);
  await accountRoutes(app, ctx);
  await passwordResetRoutes(app, ctx);
  await securitySettingsRoutes(app, ctx);
  await connectedAppsRoutes(app, ctx);
  await apiKeysRoutes(app, ctx);
  await developerAppsRoutes(app, ctx);
  await activityRoutes(app, ctx);
  await platformApiRoutes(app, ctx);
  await secretScanningRoutes(app, ctx);
  return app;
}
