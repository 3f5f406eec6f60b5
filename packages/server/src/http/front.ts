/**
 * The region-agnostic front (`tessera front`): one URL for every customer, whatever their region.
 * It has no database. Discovery and the JWKS are gathered from the regions; the authorization
 * endpoint asks the user for their region and redirects there; token, introspection, userinfo and
 * revocation requests are relayed to the region that recognises their credential, device
 * authorization requests to the region that knows their client (routing.ts);
 * registrations go to the first region. Routes are thin: the decisions are in picker.ts,
 * routing.ts and metadata.ts.
 */
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { JWK } from 'jose';
import { isHttps, type FrontConfig, type Region } from '../config.js';
import type { Health, Readiness } from '../ops/health.js';
import { probeRoutes } from './routes/probes.js';
import { refuseUnlessServing } from './unavailable.js';
import { JWKS_MAX_AGE, sendJwks, sendOAuthError } from './oauth-reply.js';
import { addSecurityHeaders, loggerOptions, registerCors } from './security.js';
import { OAuthError } from '../core/oauth/errors.js';
import { ErrorPage } from './pages/error.js';
import { RegionPickerPage } from './pages/region-picker.js';
import { sendPage } from './pages/render.js';
import { findAppIdentity, displayRequest, requestedClientId, type AppIdentity } from '../platform/regions/app-identity.js';
import { cachedFor, cachedPerKey } from '../platform/regions/cache.js';
import { ENDPOINTS, METADATA_PATHS } from '../core/endpoints.js';
import { frontMetadata, mergeJwks, RegionMetadataError } from '../platform/regions/metadata.js';
import { chooseRegion, pickerLink, REGION_COOKIE, regionLabel } from '../platform/regions/picker.js';
import { classifyByClient, classifyIntrospection, classifyToken, classifyUserInfo, routeInTurn, routeToEvery, unavailableAnswer, type Classifier } from '../platform/regions/routing.js';
import { callRegion, isUnreachable, jsonBody, type ForwardedRequest, type UpstreamAnswer } from '../platform/regions/upstream.js';

/** How long discovery and the JWKS are kept before the regions are asked again. */
const CACHE_MS = 60_000;
/** A region's own JWKS max-age less the front's cache, so keys are never staler than at a region. */
const FRONT_JWKS_MAX_AGE = JWKS_MAX_AGE - CACHE_MS / 1000;
const METADATA_MAX_AGE = 300;
const REMEMBER_REGION_SECONDS = 365 * 24 * 3600;
const READINESS_CACHE_MS = 1000;
const READINESS_DEADLINE_MS = 1000;
/** The picker waits this long at most for a region to name the app, then shows itself without the name. */
const APP_IDENTITY_DEADLINE_MS = 1000;
/** Apps whose names the front keeps (client ids come from anyone's query strings). */
const APP_IDENTITIES_KEPT = 1000;

export interface FrontOptions {
  logger?: FastifyServerOptions['logger'];
}

export async function buildFront(config: FrontConfig, options: FrontOptions = {}): Promise<FastifyInstance> {
  // During a shutdown, requests on kept-alive connections are answered by refuseUnlessServing.
  const app = Fastify({ logger: loggerOptions(options.logger), trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false, bodyLimit: 64 * 1024, return503OnClosing: false });
  const secure = isHttps(config.issuer);
  const health: Health = { phase: 'serving', readiness: regionsReadiness(config) };
  app.addHook('preClose', async () => {
    health.phase = 'stopping';
  });
  await app.register(cookie);
  addSecurityHeaders(app, secure);
  refuseUnlessServing(app, health, config.platformName);
  await probeRoutes(app, health);
  await registerCors(app);
  await app.register(fastifyStatic, { root: fileURLToPath(new URL('../../static/', import.meta.url)), prefix: '/static/', maxAge: '1h' });
  // Bodies are relayed to the regions exactly as they came, so they are never parsed here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof OAuthError) return sendOAuthError(reply, error);
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 400 && status < 500) return sendOAuthError(reply, new OAuthError('invalid_request', (error as Error).message, status));
    request.log.error({ err: { message: (error as Error).message } }, 'request failed');
    return sendOAuthError(reply, new OAuthError('server_error', 'the server could not complete the request'));
  });
  app.setNotFoundHandler((_request, reply) =>
    sendPage(reply, ErrorPage({ platformName: config.platformName, title: 'Not found', message: 'There is nothing at this address.' }), 404),
  );

  /** One region call; an unreachable region is logged by name and reason only. */
  async function ask(region: Region, request: ForwardedRequest, timeoutMs = config.upstreamTimeoutMs) {
    const answer = await callRegion(region, request, timeoutMs);
    // The path without its query, as every log line has it.
    if (isUnreachable(answer)) app.log.warn({ region: region.name, reason: answer.reason, path: request.path.split('?')[0] }, 'region unavailable');
    return answer;
  }

  const get = (path: string): ForwardedRequest => ({ method: 'GET', path, headers: { accept: 'application/json' }, body: undefined });

  /** The client's request as the region must see it: body and Authorization as sent, and the client's address. */
  function forwarded(request: FastifyRequest, path: string): ForwardedRequest {
    const headers: Record<string, string> = { 'x-forwarded-for': request.ip };
    if (request.headers['content-type']) headers['content-type'] = request.headers['content-type'];
    if (request.headers.authorization) headers.authorization = request.headers.authorization;
    return { method: request.method === 'GET' ? 'GET' : 'POST', path, headers, body: request.body as Buffer | undefined };
  }

  function relay(reply: FastifyReply, answer: UpstreamAnswer): FastifyReply {
    reply.status(answer.status).headers(answer.headers);
    return answer.body.length ? reply.send(answer.body) : reply.send();
  }

  // Discovery: one region's document (every region's is the same but for its URLs), endpoints on the front.
  const metadata = cachedFor(CACHE_MS, async () => {
    for (const region of config.regions) {
      const answer = await ask(region, get(METADATA_PATHS[0]));
      const document = !isUnreachable(answer) && answer.status === 200 ? jsonBody(answer) : undefined;
      if (!document) continue;
      try {
        return JSON.stringify(frontMetadata(document, region, config.issuer));
      } catch (error) {
        if (!(error instanceof RegionMetadataError)) throw error;
        app.log.error({ region: region.name }, error.message);
      }
    }
    throw new OAuthError('temporarily_unavailable', 'no region could describe itself; try again shortly');
  });
  for (const path of METADATA_PATHS) {
    app.get(path, async (_request, reply) =>
      reply.header('cache-control', `public, max-age=${METADATA_MAX_AGE}`).header('content-type', 'application/json; charset=utf-8').send(await metadata()),
    );
  }

  // The JWKS: every region's keys. A region that cannot be reached keeps its last known keys.
  const lastKeys = new Map<string, JWK[]>();
  const jwks = cachedFor(CACHE_MS, async () => {
    await Promise.all(
      config.regions.map(async (region) => {
        const answer = await ask(region, get(ENDPOINTS.jwks));
        const keys = !isUnreachable(answer) && answer.status === 200 ? jsonBody(answer)?.keys : undefined;
        if (Array.isArray(keys)) lastKeys.set(region.name, keys as JWK[]);
      }),
    );
    return {
      body: JSON.stringify(mergeJwks(config.regions.map((region) => ({ keys: lastKeys.get(region.name) ?? [] })))),
      complete: config.regions.every((region) => lastKeys.has(region.name)),
    };
  });
  app.get(ENDPOINTS.jwks, async (request, reply) => {
    const { body, complete } = await jwks();
    // Without some region's keys, relying parties must not keep this set: they would refuse its ID tokens.
    return sendJwks(request, reply, body, complete ? `public, max-age=${FRONT_JWKS_MAX_AGE}` : 'no-cache');
  });

  // The app the picker names: asked of every region at once, kept for a minute (an unknown id too).
  const appIdentities = cachedPerKey<AppIdentity | null>(CACHE_MS, APP_IDENTITIES_KEPT);
  const identityDeadline = Math.min(config.upstreamTimeoutMs, APP_IDENTITY_DEADLINE_MS);
  async function appIdentityFor(request: FastifyRequest, query: string): Promise<AppIdentity | undefined> {
    const clientId = requestedClientId(query);
    if (!clientId) return undefined;
    const lookup = () => findAppIdentity(config.regions, clientId, (region) => ask(region, displayRequest(clientId, request.ip), identityDeadline));
    // No region answered in time: the picker works without the name.
    return (await appIdentities(clientId, lookup).catch(() => null)) ?? undefined;
  }

  app.get(ENDPOINTS.authorize, async (request, reply) => {
    const queryStart = request.url.indexOf('?');
    const choice = chooseRegion(config.regions, queryStart < 0 ? '' : request.url.slice(queryStart + 1), request.cookies[REGION_COOKIE]);
    if (choice.kind === 'refused') {
      return sendPage(reply, ErrorPage({ platformName: config.platformName, title: 'Authorization failed', message: choice.message }), 400);
    }
    if (choice.kind === 'picker') {
      const regions = config.regions.map((region) => ({ name: region.name, label: regionLabel(region), host: new URL(region.baseUrl).host, href: pickerLink(region, choice.query) }));
      return sendPage(reply, RegionPickerPage({ platformName: config.platformName, regions, app: await appIdentityFor(request, choice.query) }));
    }
    if (choice.chosenNow) {
      reply.setCookie(REGION_COOKIE, choice.region.name, { path: ENDPOINTS.authorize, httpOnly: true, sameSite: 'lax', secure, maxAge: REMEMBER_REGION_SECONDS });
    }
    return reply.header('cache-control', 'no-store').redirect(choice.location, 302);
  });

  const inTurn = (path: string, classifier: Classifier) => async (request: FastifyRequest, reply: FastifyReply) =>
    relay(reply, await routeInTurn(config.regions, (region) => ask(region, forwarded(request, path)), classifier));
  app.post(ENDPOINTS.token, inTurn(ENDPOINTS.token, classifyToken));
  // The device code is issued by the region that knows the client, and its verification_uri is that
  // region's own /device page; the device's polls then reach it like any token request.
  app.post(ENDPOINTS.deviceAuthorization, inTurn(ENDPOINTS.deviceAuthorization, classifyByClient));
  app.post(ENDPOINTS.introspect, inTurn(ENDPOINTS.introspect, classifyIntrospection));
  app.get(ENDPOINTS.userinfo, inTurn(ENDPOINTS.userinfo, classifyUserInfo));
  app.post(ENDPOINTS.userinfo, inTurn(ENDPOINTS.userinfo, classifyUserInfo));
  app.post(ENDPOINTS.revoke, async (request, reply) =>
    relay(reply, await routeToEvery(config.regions, (region) => ask(region, forwarded(request, ENDPOINTS.revoke)), classifyByClient)),
  );
  // A new client is registered in one region, the first listed; its id works through the front everywhere it is routed.
  app.post(ENDPOINTS.register, async (request, reply) => {
    const answer = await ask(config.regions[0]!, forwarded(request, ENDPOINTS.register));
    return relay(reply, isUnreachable(answer) ? unavailableAnswer() : answer);
  });
  return app;
}

/**
 * The front can route a request when at least one region is ready (its own `/readyz`). Asked at
 * most once a second, however often probes come; a region that does not answer is not logged here
 * (requests routed to it are).
 */
function regionsReadiness(config: FrontConfig): Health['readiness'] {
  const check = cachedFor(READINESS_CACHE_MS, async (): Promise<Readiness> => {
    const regions = Object.fromEntries(
      await Promise.all(
        config.regions.map(async (region) => {
          const answer = await callRegion(region, { method: 'GET', path: '/readyz', headers: { accept: 'application/json' }, body: undefined }, Math.min(config.upstreamTimeoutMs, READINESS_DEADLINE_MS));
          return [region.name, isUnreachable(answer) ? `unreachable (${answer.reason})` : answer.status === 200 ? 'ready' : `not ready (HTTP ${answer.status})`] as const;
        }),
      ),
    );
    const ready = Object.values(regions).includes('ready');
    return { ready, status: ready ? 'ready' : 'unavailable', regions };
  });
  return check;
}

export async function startFront(config: FrontConfig): Promise<FastifyInstance> {
  const app = await buildFront(config, { logger: { level: config.logLevel } });
  await app.listen({ port: config.port, host: config.host, listenTextResolver: (address) => `listening on ${address}; clients use the issuer ${config.issuer}` });
  return app;
}
