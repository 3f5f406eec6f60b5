/**
 * The device authorization grant's HTTP side (RFC 8628): POST /oauth/device_authorization for the
 * device, and the verification page /device where the signed-in user types the code, sees the
 * consent page and decides. The protocol is in core/oauth/device/.
 */
import { clientRegistrant } from '../../platform/client-registrant.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { ENDPOINTS } from '../../core/endpoints.js';
import { readClientCredentials } from '../../core/oauth/client-auth.js';
import { decideDeviceAuthorization, findPendingDeviceAuthorization, type PendingDeviceAuthorization } from '../../core/oauth/device/verification.js';
import { requestDeviceAuthorization } from '../../core/oauth/device/request.js';
import { listMemberships } from '../../core/oauth/narrowing.js';
import type { PlatformContext } from '../../platform/context.js';
import { describeScopes } from '../../platform/scopes.js';
import { ConsentPage } from '../pages/consent.js';
import { DeviceCodePage, DeviceDonePage } from '../pages/device.js';
import { sendPage } from '../pages/render.js';
import { noStore } from '../oauth-reply.js';
import { narrowingChoice, singleParams, textParam } from '../params.js';
import { rateLimited, userCodeAttempts } from '../rate-limits.js';
import { currentSession } from '../session.js';

const WRONG_CODE = 'That code is not valid. Check it against the one your device shows; a code works once, for 10 minutes.';

export async function deviceRoutes(app: FastifyInstance, ctx: PlatformContext, redis: Redis | undefined): Promise<void> {
  const { platformName } = ctx.config;
  const attempts = userCodeAttempts(ctx, redis);

  app.post(ENDPOINTS.deviceAuthorization, { config: rateLimited(ctx, 'device_authorization') }, async (request, reply) => {
    const params = singleParams(request.body);
    const credentials = readClientCredentials(request.headers.authorization, params);
    const response = await requestDeviceAuthorization(ctx, credentials, { scope: params.scope, resource: params.resource }, { ip: request.ip });
    return noStore(reply).send(response);
  });

  /** Sign-in comes first (and returns here with the code typed so far), so every attempt is a signed-in user's. */
  const signInFirst = (reply: FastifyReply, userCode: string, status: 302 | 303) => {
    const returnTo = `${ENDPOINTS.deviceVerification}${userCode ? `?${new URLSearchParams({ user_code: userCode })}` : ''}`;
    return reply.redirect(`/login?return_to=${encodeURIComponent(returnTo)}`, status);
  };

  app.get(ENDPOINTS.deviceVerification, async (request, reply) => {
    // verification_uri_complete fills the code in; the user still confirms it against the device (§5.4).
    const userCode = textParam(request.query, 'user_code').slice(0, 32);
    const session = await currentSession(ctx, request);
    if (!session) return signInFirst(reply, userCode, 302);
    return sendPage(reply, DeviceCodePage({ platformName, csrfToken: reply.generateCsrf(), userEmail: session.user.email, userCode }));
  });

  app.post(ENDPOINTS.deviceVerification, { config: rateLimited(ctx, 'device_verification'), preHandler: app.csrfProtection }, async (request, reply) => {
    const typed = textParam(request.body, 'user_code').slice(0, 32);
    const session = await currentSession(ctx, request);
    if (!session) return signInFirst(reply, typed, 303);
    const codePage = (status: number, error: string) => sendPage(reply, DeviceCodePage({ platformName, csrfToken: reply.generateCsrf(), userEmail: session.user.email, userCode: typed, error }), status);

    const attempt = await attempts.begin(request.ip);
    if (attempt.retryAfterSeconds > 0) {
      reply.header('retry-after', String(attempt.retryAfterSeconds));
      return codePage(429, `Too many wrong codes. Try again in ${Math.ceil(attempt.retryAfterSeconds / 60)} minutes.`);
    }
    const pending = await findPendingDeviceAuthorization(ctx, typed);
    if (!pending) return codePage(400, WRONG_CODE);
    await attempt.forgive();

    const decision = textParam(request.body, 'decision');
    if (!decision) return consentPage(request, reply, pending);
    const user = { userId: session.user.id, email: session.user.email, authTime: session.authTime, amr: session.amr };
    const outcome = await decideDeviceAuthorization(ctx, pending, user, { decision, narrowing: narrowingChoice(request.body) }, { ip: request.ip });
    if (outcome.kind === 'consent') return consentPage(request, reply, pending, outcome.error);
    if (outcome.kind === 'gone') return codePage(400, WRONG_CODE);
    return sendPage(reply, DeviceDonePage({ platformName, approved: outcome.kind === 'approved', clientName: pending.client.name }));
  });

  async function consentPage(request: FastifyRequest, reply: FastifyReply, pending: PendingDeviceAuthorization, error?: string) {
    const session = (await currentSession(ctx, request))!;
    const { client } = pending;
    return sendPage(
      reply,
      ConsentPage({
        platformName,
        csrfToken: reply.generateCsrf(),
        userEmail: session.user.email,
        client: { name: client.name, logoUri: client.logoUri, verified: client.verified },
        registrant: await clientRegistrant(ctx.store, client),
        redirectHost: '',
        localhostOnly: false,
        scopes: describeScopes(pending.scopes),
        request: { user_code: pending.userCode },
        memberships: await listMemberships(ctx.store, session.user.id),
        requiredAccessLevel: undefined,
        projectHint: undefined,
        resource: pending.resourceShown,
        error,
        fromAnotherDevice: true,
      }),
      error ? 400 : 200,
    );
  }
}
