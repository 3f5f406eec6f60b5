/**
 * The authorization decision (RFC 6749 §4.1, OpenID Connect Core §3.1.2): given the request, who
 * is signed in and, on the consent form's submission, what they chose, decide what happens next.
 * The HTTP route only renders the answer:
 *
 * - `redirect`: to the client, with a code or an error (RFC 6749 §4.1.2, §4.1.2.1);
 * - `sign-in`: to the sign-in page, which comes back here (no session, `prompt=login`, `max_age`,
 *   or a stronger sign-in the request's `acr` needs);
 * - `consent`: the consent page, with an error when a submission was not acceptable.
 *
 * A client or redirect URI that cannot be trusted is never redirected to: `AuthorizationPageError`.
 */
import type { Context } from '../../context.js';
import { acrSatisfied } from '../../oidc/acr.js';
import { findResource, resourceShownAtConsent } from '../../resources/registry.js';
import { authorizationCovers, saveAuthorization } from '../authorizations.js';
import { OAuthError } from '../errors.js';
import { listMemberships, validateNarrowing, type Membership } from '../narrowing.js';
import { errorRedirect, issueCode, type SignedInUser } from './issue.js';
import { resolveClientAndRedirect, validateAuthorizationParams, type AuthorizationParams, type AuthorizationRequest } from './request.js';

export type { SignedInUser };

/** What the user chose on the consent page. */
export interface ConsentSubmission {
  decision: string;
  narrowing: { accessLevel: string | undefined; organizationIds: string[]; projectIds: string[] };
}

export type AuthorizationDecision =
  | { kind: 'redirect'; url: string }
  | { kind: 'sign-in'; returnTo: string }
  | {
      kind: 'consent';
      request: AuthorizationRequest;
      fields: Record<string, string>;
      memberships: Membership[];
      /** The resource server the token will be for, when it is not the platform API: the consent page names it. */
      otherResource?: { name: string; host: string };
      /** After a refused submission: why, and what the user chose, so the page shows their choice again. */
      error?: string;
      choice?: ConsentSubmission['narrowing'];
    };

/** The request as plain strings, to carry through the consent form or the sign-in page. */
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

function needsSignIn(ctx: Context, request: AuthorizationRequest, user: SignedInUser | undefined): boolean {
  if (!user) return true;
  if (request.prompt.has('login')) return true;
  return request.maxAge !== undefined && ctx.now() - user.authTime > request.maxAge * 1000;
}

export async function decideAuthorization(
  ctx: Context,
  params: AuthorizationParams,
  user: SignedInUser | undefined,
  options: { ip?: string | undefined; submission?: ConsentSubmission | undefined } = {},
): Promise<AuthorizationDecision> {
  const { client, redirectUri } = await resolveClientAndRedirect(ctx, params, { ip: options.ip });
  const state = typeof params.state === 'string' ? params.state : undefined;
  const fail = (error: OAuthError): AuthorizationDecision => ({ kind: 'redirect', url: errorRedirect(ctx, redirectUri, state, error) });
  const signIn = (): AuthorizationDecision => ({ kind: 'sign-in', returnTo: `/oauth/authorize?${new URLSearchParams(requestFields(params, true))}` });

  let request: AuthorizationRequest;
  try {
    request = validateAuthorizationParams(client, redirectUri, params, { scopes: ctx.scopes });
  } catch (error) {
    if (error instanceof OAuthError) return fail(error);
    throw error;
  }
  const resource = request.resource === undefined ? undefined : await findResource(ctx.store, ctx.config, request.resource);
  if (request.resource !== undefined && !resource) return fail(new OAuthError('invalid_target', `unknown resource ${request.resource}`));

  const { submission } = options;
  // A submission stands on the sign-in that showed the consent page; only its absence sends the user back.
  if (submission ? !user : needsSignIn(ctx, request, user)) {
    return request.prompt.has('none') ? fail(new OAuthError('login_required', 'the user is not signed in')) : signIn();
  }
  const signedIn = user!;
  if (request.acr && !acrSatisfied(request.acr, signedIn.amr)) {
    // A user with two-factor sign-in signs in again with it (step-up); without it, an essential request fails.
    if (await ctx.store.twoFactor.find(signedIn.userId, { confirmed: true })) {
      return request.prompt.has('none') ? fail(new OAuthError('login_required', 'the request needs a two-factor sign-in')) : signIn();
    }
    if (request.acr.essential) return fail(new OAuthError('unmet_authentication_requirements', 'the user cannot sign in with the requested authentication context'));
  }
  const authorization = await ctx.store.authorizations.find(signedIn.userId, client.id);
  const otherResource = resourceShownAtConsent(resource);
  const consentPage = async (refused?: { error: string; choice: ConsentSubmission['narrowing'] }): Promise<AuthorizationDecision> => ({
    kind: 'consent',
    request,
    fields: requestFields(params),
    memberships: await listMemberships(ctx.store, signedIn.userId),
    ...(otherResource ? { otherResource } : {}),
    ...refused,
  });

  if (!submission) {
    const levelSatisfied = !request.requiredAccessLevel || authorization?.access_level === request.requiredAccessLevel;
    if (!request.prompt.has('consent') && authorizationCovers(authorization, request.scopes) && levelSatisfied) {
      return { kind: 'redirect', url: await issueCode(ctx, ctx.store, request, signedIn, authorization) };
    }
    if (request.prompt.has('none')) {
      // Consented scopes but a different access level: the user must pick what to share.
      return fail(authorizationCovers(authorization, request.scopes)
        ? new OAuthError('interaction_required', 'the user must choose which organizations or projects to share')
        : new OAuthError('consent_required', 'the user has not consented to this request'));
    }
    return consentPage();
  }

  if (submission.decision !== 'allow') return fail(new OAuthError('access_denied', 'the user denied the request'));
  let narrowing;
  try {
    narrowing = validateNarrowing(submission.narrowing, await listMemberships(ctx.store, signedIn.userId), request.requiredAccessLevel);
  } catch (error) {
    if (error instanceof OAuthError) return consentPage({ error: error.description, choice: submission.narrowing });
    throw error;
  }
  // The consent record, its audit event and the code are one transaction: never a code without its consent.
  const url = await ctx.store.transaction(async (tx) => {
    const saved = await saveAuthorization(tx, { userId: signedIn.userId, clientId: client.id, scopes: request.scopes, narrowing }, ctx.now(), { ip: options.ip });
    return issueCode(ctx, tx, request, signedIn, saved);
  });
  return { kind: 'redirect', url };
}
