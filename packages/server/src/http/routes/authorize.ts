/**
 * GET /oauth/authorize shows the consent page (or skips it); POST /oauth/authorize takes the
 * user's decision. The request travels through the consent form and is validated again on POST,
 * so no pending state is kept on the server. What happens is decided in the core
 * (core/oauth/authorize/decide.ts); this route reads the request and renders the decision.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PlatformContext } from '../../platform/context.js';
import { ENDPOINTS } from '../../core/endpoints.js';
import { decideAuthorization, type ConsentSubmission } from '../../core/oauth/authorize/decide.js';
import { AUTHORIZATION_PARAMETERS, type AuthorizationParams } from '../../core/oauth/authorize/request.js';
import { isLoopbackRedirect } from '../../core/oauth/redirect-uri.js';
import { clientRegistrant } from '../../platform/client-registrant.js';
import { describeScopes } from '../../platform/scopes.js';
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

export async function authorizeRoutes(app: FastifyInstance, ctx: PlatformContext): Promise<void> {
  async function authorize(request: FastifyRequest, reply: FastifyReply, params: AuthorizationParams, submission?: ConsentSubmission) {
    const session = await currentSession(ctx, request);
    const user = session && { userId: session.user.id, email: session.user.email, authTime: session.authTime, amr: session.amr };
    const decision = await decideAuthorization(ctx, params, user, { ip: request.ip, submission });
    // A redirect after the consent form's POST is a 303, so the browser follows it with a GET.
    const status = submission ? 303 : 302;
    if (decision.kind === 'redirect') return reply.redirect(decision.url, status);
    if (decision.kind === 'sign-in') return reply.redirect(`/login?return_to=${encodeURIComponent(decision.returnTo)}`, status);
    const { client, redirectUri, scopes, requiredAccessLevel, projectHint } = decision.request;
    return sendPage(
      reply,
      ConsentPage({
        platformName: ctx.config.platformName,
        csrfToken: reply.generateCsrf(),
        userEmail: session!.user.email,
        client: {
          name: client.name,
          logoUri: client.logoUri,
          verified: client.verified,
        },
        registrant: await clientRegistrant(ctx.store, client),
        redirectHost: new URL(redirectUri).host,
        localhostOnly: client.redirectUris.every(isLoopbackRedirect),
        scopes: describeScopes(scopes),
        request: decision.fields,
        memberships: decision.memberships,
        resource: decision.otherResource,
        requiredAccessLevel,
        projectHint,
        error: decision.error,
        choice: decision.choice,
      }),
      decision.error ? 400 : 200,
    );
  }

  app.get(ENDPOINTS.authorize, { config: rateLimited(ctx, 'authorize') }, (request, reply) => authorize(request, reply, pickAuthorizationParams(request.query)));

  app.post(ENDPOINTS.authorize, { config: rateLimited(ctx, 'authorize'), preHandler: app.csrfProtection }, (request, reply) => {
    const decision = (request.body as Record<string, unknown> | undefined)?.decision;
    const submission = { decision: typeof decision === 'string' ? decision : 'deny', narrowing: narrowingChoice(request.body) };
    return authorize(request, reply, pickAuthorizationParams(request.body), submission);
  });
}
