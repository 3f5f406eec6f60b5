/**
 * The token toolkit a platform mounts on its API: a Fastify plugin that authenticates bearer
 * credentials (OAuth access tokens and personal API keys alike) and enforces each route's declared
 * scope and resource. Routes declare what they need; none repeats the checks:
 *
 *   await app.register(resourceServer, { ctx, resource: 'https://platform.example/api' });
 *   app.get('/api/projects/:id', { config: { access: { scope: 'project:read', project: (r) => r.params.id } } },
 *     (request) => request.project);
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Context } from '../../core/context.js';
import { bearerToken, sendBearerError } from '../bearer.js';
import { sendUnavailable } from '../unavailable.js';
import { OAuthError } from '../../core/oauth/errors.js';
import { hashToken } from '../../core/crypto/token-formats.js';
import { ShortLivedCache } from '../../core/short-lived-cache.js';
import type { Organization, Project } from '../../store/schema.js';
import { DependencyUnavailableError } from '../../store/unavailable.js';
import { checkOrganizationAccess, checkProjectAccess, requireScope, ResourceAccessError } from '../../platform/resource-server/access.js';
import { loadPrincipal, type Principal } from '../../platform/resource-server/principal.js';

type Param = (request: FastifyRequest) => string;

export interface AccessRule {
  /** `<object>:read` or `<object>:write`. */
  scope: string;
  /** The organization the route acts on, loaded into `request.organization`. */
  organization?: Param;
  /** The project the route acts on, loaded into `request.project`. */
  project?: Param;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
  interface FastifyRequest {
    principal: Principal | null;
    organization: Organization | null;
    project: Project | null;
  }
}

export interface ResourceServerOptions {
  ctx: Context;
  /** This API's resource identifier (RFC 8707); tokens bound to another resource are refused. */
  resource: string;
}

/** RFC 9728 §3.1: the metadata URL for a resource inserts the well-known segment before its path. */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname === '/' ? '' : url.pathname}`;
}

/** A principal, and whether its token's audience is one this API accepts. */
type Checked = { principal: Principal; audienceAccepted: boolean };

/** The share of the cache's time after which a credential in use is checked again in the background. */
const RENEW_AFTER = 0.75;

async function plugin(app: FastifyInstance, { ctx, resource }: ResourceServerOptions): Promise<void> {
  /** Checked credentials by their hash, each for at most `tokenCacheMs` (the revocation delay). */
  const cache = new ShortLivedCache<Checked>(ctx.config.tokenCacheMs);
  /** Credentials being checked again in the background. */
  const renewing = new Set<string>();
  const challenge = { realm: ctx.config.issuer, resourceMetadata: protectedResourceMetadataUrl(resource) };

  app.decorateRequest('principal', null);
  app.decorateRequest('organization', null);
  app.decorateRequest('project', null);

  /** Unbound tokens, tokens for this API, and tokens for a resource server registered with --platform-api-access. */
  async function acceptsAudience(audience: string | null): Promise<boolean> {
    if (audience === null || audience === resource) return true;
    return (await ctx.store.resourceServers.findByUri(audience))?.platform_api_access === 1;
  }

  /** Loads and keeps a credential's principal; a credential no longer valid is dropped from the cache. */
  async function check(credential: string, hash: string, now: number): Promise<Checked | undefined> {
    const principal = await loadPrincipal(ctx, credential);
    if (!principal) {
      cache.delete(hash);
      return undefined;
    }
    const checked = { principal, audienceAccepted: await acceptsAudience(principal.audience) };
    cache.set(hash, checked, now, principal.expiresAt ?? undefined);
    return checked;
  }

  async function authenticate(credential: string): Promise<Principal> {
    const hash = hashToken(credential);
    const now = ctx.now();
    let checked = cache.get(hash, now);
    if (checked && cache.ageing(hash, now, RENEW_AFTER) && !renewing.has(hash)) {
      // Checked again ahead of expiry while in use, so a busy API never waits on a wave of expiries;
      // no answer is used past the cache's time either way. A failed renewal (the database away)
      // leaves the answer to expire as it would have, as the standalone verifier does.
      renewing.add(hash);
      void check(credential, hash, now)
        .catch(() => undefined)
        .finally(() => renewing.delete(hash));
    }
    if (!checked) checked = await check(credential, hash, now);
    if (!checked) throw new OAuthError('invalid_token', 'the access token is invalid, expired or revoked');
    const { principal } = checked;
    if (!checked.audienceAccepted) {
      throw new OAuthError('invalid_token', `the access token was issued for another resource (${principal.audience})`);
    }
    return principal;
  }

  /** Undefined when the request may proceed; the sent reply when it was refused. */
  async function enforce(request: FastifyRequest, reply: FastifyReply, rule: AccessRule): Promise<FastifyReply | undefined> {
    try {
      // RFC 9728 metadata for this API lists bearer_methods_supported ["header"].
      const credential = bearerToken(request, { formBody: false });
      if (credential === undefined) return sendBearerError(reply, challenge, undefined);
      const principal = await authenticate(credential);
      request.principal = principal;
      requireScope(principal, rule.scope);
      if (rule.organization) {
        const id = rule.organization(request);
        request.organization = (await ctx.store.organizations.find(id)) ?? null;
        checkOrganizationAccess(principal, request.organization?.id ?? id);
      }
      if (rule.project) {
        const id = rule.project(request);
        request.project = (await ctx.store.organizations.findProject(id)) ?? null;
        checkProjectAccess(principal, request.project ?? { id, organization_id: '' });
      }
      return undefined;
    } catch (error) {
      if (error instanceof OAuthError) return sendBearerError(reply, challenge, error, error.code === 'insufficient_scope' ? rule.scope : undefined);
      if (error instanceof ResourceAccessError) return reply.status(error.status).send({ error: error.code, error_description: error.description });
      // Tessera's database is away: a 503 the platform's own error handler would not know to give.
      if (error instanceof DependencyUnavailableError) return sendUnavailable(request, reply, ctx.config.platformName, 'the token could not be checked now');
      throw error;
    }
  }

  // Each protected route gets its own preHandler as it is declared, so unprotected routes pay nothing.
  app.addHook('onRoute', (route) => {
    const rule = (route.config as { access?: AccessRule } | undefined)?.access;
    if (!rule) return;
    const guard = (request: FastifyRequest, reply: FastifyReply) => enforce(request, reply, rule);
    route.preHandler = [guard, ...[route.preHandler ?? []].flat()];
  });
}

export const resourceServer = fp(plugin, { name: 'tessera-resource-server', fastify: '5.x' });
