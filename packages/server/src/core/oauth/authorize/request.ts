/**
 * The authorization endpoint's rules (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1, RFC 9207).
 *
 * Until the client and redirect URI are known to be genuine, an error must never redirect (that
 * would make Tessera an open redirector): those errors are `AuthorizationPageError` and are shown
 * on a page. Every later error is an `OAuthError` that the HTTP layer sends back to the client's
 * redirect URI with `state` and `iss`.
 */
import type { Context } from '../../context.js';
import { parseAcrRequest, type AcrRequest } from '../../oidc/acr.js';
import type { OAuthClient, ResolveMeta } from '../../clients/client.js';
import { OAuthError } from '../errors.js';
import { validateChallenge } from '../pkce.js';
import { redirectUriMatches } from '../redirect-uri.js';
import { parseScope, validateRequestedScope, type ScopeRegistry } from '../scopes.js';

/** An error about the client or redirect URI itself: shown to the user, never redirected. */
export class AuthorizationPageError extends Error {
  constructor(
    readonly code: 'invalid_client' | 'invalid_request',
    readonly description: string,
  ) {
    super(description);
  }
}

export type Prompt = 'none' | 'login' | 'consent' | 'select_account';

export interface AuthorizationRequest {
  client: OAuthClient;
  redirectUri: string;
  state: string | undefined;
  scopes: string[];
  codeChallenge: string;
  nonce: string | undefined;
  prompt: Set<Prompt>;
  maxAge: number | undefined;
  resource: string | undefined;
  requiredAccessLevel: 'organization' | 'project' | undefined;
  /** A project to pre-select on the consent page. */
  projectHint: string | undefined;
  /** The authentication context asked for (acr_values or claims), if any. */
  acr: AcrRequest | undefined;
}

/** The parameters an authorization request is made of; all others are ignored (RFC 6749 §3.1). */
export const AUTHORIZATION_PARAMETERS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'nonce',
  'prompt',
  'max_age',
  'resource',
  'required_access_level',
  'project',
  'response_mode',
  'acr_values',
  'claims',
] as const;

export type AuthorizationParams = Partial<Record<(typeof AUTHORIZATION_PARAMETERS)[number], string | string[]>>;

function single(params: AuthorizationParams, name: keyof AuthorizationParams): string | undefined {
  const value = params[name];
  if (Array.isArray(value)) throw new OAuthError('invalid_request', `${name} must not be repeated`);
  return value === '' ? undefined : value;
}

/** Resolves the client and redirect URI; throws `AuthorizationPageError` when either cannot be trusted. */
export async function resolveClientAndRedirect(
  ctx: Context,
  params: AuthorizationParams,
  meta: ResolveMeta = {},
): Promise<{ client: OAuthClient; redirectUri: string }> {
  const clientId = params.client_id;
  if (Array.isArray(clientId)) throw new AuthorizationPageError('invalid_request', 'client_id must not be repeated.');
  if (!clientId) throw new AuthorizationPageError('invalid_request', 'The request has no client_id.');
  const client = await ctx.clients.resolve(clientId, meta);
  if (!client) throw new AuthorizationPageError('invalid_client', 'This application is not known to us.');
  const requested = params.redirect_uri;
  if (Array.isArray(requested)) throw new AuthorizationPageError('invalid_request', 'redirect_uri must not be repeated.');
  if (!requested) {
    // OAuth 2.1 §4.1.1: may be omitted only when exactly one redirect URI is registered.
    if (client.redirectUris.length === 1) return { client, redirectUri: client.redirectUris[0]! };
    throw new AuthorizationPageError('invalid_request', 'The request has no redirect_uri.');
  }
  if (!client.redirectUris.some((registered) => redirectUriMatches(registered, requested))) {
    throw new AuthorizationPageError('invalid_request', 'The redirect_uri is not registered for this application.');
  }
  return { client, redirectUri: requested };
}

/** Validates everything after the client and redirect URI; throws `OAuthError` (to be redirected). */
export function validateAuthorizationParams(
  client: OAuthClient,
  redirectUri: string,
  params: AuthorizationParams,
  deployment: { scopes: ScopeRegistry },
): AuthorizationRequest {
  const responseType = single(params, 'response_type');
  if (!responseType) throw new OAuthError('invalid_request', 'response_type is required');
  if (responseType !== 'code') throw new OAuthError('unsupported_response_type', 'only response_type=code is supported');
  // A code it could not redeem (the token endpoint holds a client to its grant types), so none is issued.
  if (!client.grantTypes.includes('authorization_code')) throw new OAuthError('unauthorized_client', 'this client is not registered for the authorization_code grant');
  const responseMode = single(params, 'response_mode');
  if (responseMode !== undefined && responseMode !== 'query') {
    throw new OAuthError('invalid_request', 'only response_mode=query is supported');
  }
  const codeChallenge = validateChallenge(single(params, 'code_challenge'), single(params, 'code_challenge_method'));
  const scopes = validateRequestedScope(parseScope(single(params, 'scope')), client.scopeCeiling, deployment.scopes);

  const prompt = new Set(parseScope(single(params, 'prompt'))) as Set<Prompt>;
  for (const value of prompt) {
    if (!['none', 'login', 'consent', 'select_account'].includes(value)) {
      throw new OAuthError('invalid_request', `unsupported prompt value ${value}`);
    }
  }
  if (prompt.has('none') && prompt.size > 1) throw new OAuthError('invalid_request', 'prompt=none cannot be combined with other values');

  const maxAgeRaw = single(params, 'max_age');
  let maxAge: number | undefined;
  if (maxAgeRaw !== undefined) {
    if (!/^\d{1,10}$/.test(maxAgeRaw)) throw new OAuthError('invalid_request', 'max_age must be a non-negative integer');
    maxAge = Number(maxAgeRaw);
  }

  const resource = single(params, 'resource');
  if (resource !== undefined) validateResourceIndicator(resource);

  const requiredAccessLevel = single(params, 'required_access_level');
  if (requiredAccessLevel !== undefined && requiredAccessLevel !== 'organization' && requiredAccessLevel !== 'project') {
    throw new OAuthError('invalid_request', 'required_access_level must be organization or project');
  }
  const state = single(params, 'state');
  const nonce = single(params, 'nonce');
  if ((state?.length ?? 0) > 2048 || (nonce?.length ?? 0) > 512) throw new OAuthError('invalid_request', 'state or nonce is too long');
  return {
    client,
    redirectUri,
    state,
    scopes,
    codeChallenge,
    nonce,
    prompt,
    maxAge,
    resource,
    requiredAccessLevel,
    projectHint: single(params, 'project'),
    acr: parseAcrRequest(single(params, 'acr_values'), single(params, 'claims')),
  };
}

/** RFC 8707 §2: an absolute URI without a fragment. Whether this instance serves it is the registry's to say (decide.ts). */
export function validateResourceIndicator(resource: string): void {
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    throw new OAuthError('invalid_target', 'resource must be an absolute URI');
  }
  if (url.hash || resource.includes('#')) throw new OAuthError('invalid_target', 'resource must not contain a fragment');
}
