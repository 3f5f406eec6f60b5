/**
 * GET /oauth/authorize shows the consent page (or skips it); POST /oauth/authorize takes the
 * user's decision. The request travels through the consent form and is validated again on POST,
 * so no pending state is kept on the server.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listMemberships } from '../../platform/accounts/organizations.js';
import { hasTwoFactor } from '../../platform/accounts/two-factor.js';
import { acrSatisfied } from '../../core/oidc/acr.js';
import type { BrowserSession } from '../../platform/accounts/sessions.js';
import type { Context } from '../../core/context.js';
import {
  AUTHORIZATION_PARAMETERS,
  errorRedirect,
  issueAuthorizationCode,
  resolveClientAndRedirect,
  validateAuthorizationParams,
  type AuthorizationParams,
  type AuthorizationRequest,
} from '../../core/oauth/authorize/request.js';
import { findGrant, grantCovers, saveGrant, validateNarrowing } from '../../core/oauth/authorizations.js';
import { OAuthError } from '../../core/oauth/errors.js';
import { isLoopbackRedirect } from '../../core/oauth/redirect-uri.js';
import { describeScopes } from '../../core/oauth/scopes.js';
import { ConsentPage } from '../pages/consent.js';
import { sendPage } from '../pages/render.js';
import { narrowingChoice } from '../params.js';
import { rateLimited } from '../rate-limits.js';
import { currentSession } from '../session.js';

function pickAuthorizationParams(source: unknown): AuthorizationParams {
  const input = (source ?? {}) as Record<string, string | string[] | undefined>;
  const params: AuthorizationParams = {};
  for (const name of AUTHORIZATION_PARAMETERS) if (input[name] !== undefined) params[name] = input[name];
  return params;
}

/** The request as plain strings, to carry through the consent form or the login redirect. */
function requestFields(params: AuthorizationParams, afterSignIn = false): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) if (typeof value === 'string') fields[name] = value;
  if (afterSignIn) {
    // The user is about to sign in, which satisfies prompt=login and max_age (OpenID Connect Core
    // §3.1.2.1): asked again, max_age=0 would send every fresh sign-in back to the sign-in page.
    // The ID token's auth_time still tells the client when that was. The rest of the prompt stays.
    delete fields.max_age;
    const rest = fields.prompt?.split(' ').filter((value) => value && value !== 'login') ?? [];
    if (rest.length) fields.prompt = rest.join(' ');
    else delete fields.prompt;
  }
  return fields;
}

function loginRedirect(params: AuthorizationParams): string {
  const returnTo = `/oauth/authorize?${new URLSearchParams(requestFields(params, true))}`;
  return `/login?return_to=${encodeURIComponent(returnTo)}`;
}

function needsLogin(ctx: Context, request: AuthorizationRequest, session: BrowserSession | undefined): boolean {
  if (!session) return true;
  if (request.prompt.has('login')) return true;
  return request.maxAge !== undefined && ctx.now() - session.authTime > request.maxAge * 1000;
}

export async function authorizeRoutes(app: FastifyInstance, ctx: Context): Promise<void> {
  async function authorize(request: FastifyRequest, reply: FastifyReply, params: AuthorizationParams, decision?: string) {
    const { client, redirectUri } = await resolveClientAndRedirect(ctx, params, { ip: request.ip });
    const status = decision === undefined ? 302 : 303;
    const state = typeof params.state === 'string' ? params.state : undefined;
    const fail = (error: OAuthError) => reply.redirect(errorRedirect(ctx, redirectUri, state, error), status);

    let authz: AuthorizationRequest;
    try {
      authz = validateAuthorizationParams(client, redirectUri, params, ctx.config.resources);
    } catch (error) {
      if (error instanceof OAuthError) return fail(error);
      throw error;
    }

    const session = await currentSession(ctx, request);
    if (decision === undefined ? needsLogin(ctx, authz, session) : !session) {
      if (authz.prompt.has('none')) return fail(new OAuthError('login_required', 'the user is not signed in'));
      return reply.redirect(loginRedirect(params), 302);
    }
    const { user } = session!;
    if (authz.acr && !acrSatisfied(authz.acr, session!.amr)) {
      // A user with two-factor sign-in signs in again with it (step-up); without it, an essential request fails.
      if (await hasTwoFactor(ctx.db, user.id)) {
        if (authz.prompt.has('none')) return fail(new OAuthError('login_required', 'the request needs a two-factor sign-in'));
        return reply.redirect(loginRedirect(params), decision === undefined ? 302 : 303);
      }
      if (authz.acr.essential) return fail(new OAuthError('unmet_authentication_requirements', 'the user cannot sign in with the requested authentication context'));
    }
    const grant = await findGrant(ctx.db, user.id, client.id);

    if (decision === undefined) {
      const levelSatisfied = !authz.requiredAccessLevel || grant?.access_level === authz.requiredAccessLevel;
      if (!authz.prompt.has('consent') && grantCovers(grant, authz.scopes) && levelSatisfied) {
        return reply.redirect(await issueAuthorizationCode(ctx, authz, user, grant, session!), 302);
      }
      if (authz.prompt.has('none')) {
        // Consented scopes but a different access level: the user must pick what to share.
        const error = grantCovers(grant, authz.scopes)
          ? new OAuthError('interaction_required', 'the user must choose which organizations or projects to share')
          : new OAuthError('consent_required', 'the user has not consented to this request');
        return fail(error);
      }
      return showConsent(reply, authz, params, session!);
    }

    if (decision !== 'allow') return fail(new OAuthError('access_denied', 'the user denied the request'));
    const memberships = await listMemberships(ctx.db, user.id);
    let narrowing;
    try {
      narrowing = validateNarrowing(narrowingChoice(request.body), memberships, authz.requiredAccessLevel);
    } catch (error) {
      if (error instanceof OAuthError) return showConsent(reply, authz, params, session!, error.description);
      throw error;
    }
    const saved = await saveGrant(ctx.db, { userId: user.id, clientId: client.id, scopes: authz.scopes, narrowing }, ctx.now(), { ip: request.ip });
    return reply.redirect(await issueAuthorizationCode(ctx, authz, user, saved, session!), 303);
  }

  async function showConsent(
    reply: FastifyReply,
    authz: AuthorizationRequest,
    params: AuthorizationParams,
    session: BrowserSession,
    error?: string,
  ) {
    const { client } = authz;
    return sendPage(
      reply,
      ConsentPage({
        platformName: ctx.config.platformName,
        csrfToken: reply.generateCsrf(),
        userEmail: session.user.email,
        client: {
          name: client.name,
          logoUri: client.logoUri,
          verified: client.verified,
          identityHost: client.kind === 'cimd' ? new URL(client.id).host : undefined,
        },
        redirectHost: new URL(authz.redirectUri).host,
        localhostOnly: client.redirectUris.every(isLoopbackRedirect),
        scopes: describeScopes(authz.scopes),
        request: requestFields(params),
        memberships: await listMemberships(ctx.db, session.user.id),
        requiredAccessLevel: authz.requiredAccessLevel,
        projectHint: authz.projectHint,
        error,
      }),
      error ? 400 : 200,
    );
  }

  app.get('/oauth/authorize', { config: rateLimited(ctx, 'authorize') }, (request, reply) =>
    authorize(request, reply, pickAuthorizationParams(request.query)),
  );

  app.post('/oauth/authorize', { config: rateLimited(ctx, 'authorize'), preHandler: app.csrfProtection }, (request, reply) => {
    const decision = (request.body as Record<string, unknown> | undefined)?.decision;
    return authorize(request, reply, pickAuthorizationParams(request.body), typeof decision === 'string' ? decision : 'deny');
  });
}
