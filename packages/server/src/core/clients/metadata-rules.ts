/**
 * The metadata rules every way a client comes in follows: self-serve apps, dynamic registrations
 * (RFC 7591), Client ID Metadata Documents and `tessera client create`. One set, so that no way in
 * is laxer than another. Each rule returns what is wrong, as a phrase to follow a subject
 * ("client_name", "The app"), or undefined; callers choose the error code and the wording.
 */
import { GRANT_TYPES, isGrantType, SIGN_IN_GRANT_TYPES } from '../oauth/grant-types/names.js';
import { redirectUriRegistrationProblem } from '../oauth/redirect-uri.js';
import type { ScopeRegistry } from '../oauth/scopes.js';

/** What a client's metadata is checked against: the platform's name (client names may not imitate it) and its scopes. */
export interface ClientRules {
  platformName: string;
  scopes: ScopeRegistry;
}
import { hasHiddenCharacters, lookAlikeOf } from './look-alikes.js';

export const MAX_CLIENT_NAME_LENGTH = 100;
const MAX_REDIRECT_URIS = 10;
const MAX_URI_LENGTH = 2048;

/** User info lets a URL pass for another host (https://bank.example@evil.example/) and puts credentials in logs. */
function hasUserInfo(uri: string): boolean {
  const url = new URL(uri);
  return url.username !== '' || url.password !== '';
}

/**
 * The name as it is kept and shown: NFKC (fullwidth, ligature and other compatibility forms become
 * the letters they show), trimmed. What the rule below checks is what users see.
 */
export function normalizeClientName(name: string): string {
  return name.normalize('NFKC').trim();
}

/** Words a name may not contain or imitate: users would take the client for the platform, or for one it vouches for. */
function reservedWords(platformName: string): string[] {
  return ['official', 'verified', platformName];
}

/** What is wrong with a client name, checked as `normalizeClientName` keeps it. */
export function clientNameProblem(name: string, platformName: string): string | undefined {
  const normalized = normalizeClientName(name);
  if (!normalized || normalized.length > MAX_CLIENT_NAME_LENGTH) return `must be 1 to ${MAX_CLIENT_NAME_LENGTH} characters`;
  if (hasHiddenCharacters(normalized)) return 'must not contain invisible or direction-changing characters (zero-width spaces, soft hyphens, right-to-left overrides and the like)';
  if (lookAlikeOf(normalized, reservedWords(platformName))) {
    return `must not contain "official", "verified" or "${platformName}", in any letters that look like them: users could take it for the platform`;
  }
  return undefined;
}

/**
 * Whether a client registered for these grant types needs redirect URIs: the code flow sends the
 * user back to one; the device grant has no redirect (RFC 8628), so a client registered only for
 * it (and refresh_token) need not list any.
 */
export function needsRedirectUris(grantTypes: readonly string[]): boolean {
  return grantTypes.includes('authorization_code');
}

/**
 * What is wrong with the redirect URIs of a client registered for `grantTypes`: the list as a
 * whole (a URI listed twice counts once), or else its first URI that breaks the rule, named in `uri`.
 */
export function redirectUrisProblem(uris: readonly string[], grantTypes: readonly string[]): { problem: string; uri?: string } | undefined {
  const unique = new Set(uris);
  if (unique.size === 0 && needsRedirectUris(grantTypes)) return { problem: 'must list at least one redirect URI' };
  if (unique.size > MAX_REDIRECT_URIS) return { problem: `must list at most ${MAX_REDIRECT_URIS} redirect URIs` };
  for (const uri of unique) {
    const problem = redirectUriProblem(uri);
    if (problem) return { problem, uri };
  }
  return undefined;
}

function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > MAX_URI_LENGTH) return `is longer than ${MAX_URI_LENGTH} characters`;
  const problem = redirectUriRegistrationProblem(uri);
  if (problem) return problem;
  if (hasUserInfo(uri)) return 'must not contain a user name or password';
  return undefined;
}

/** The consent page loads the logo, so only over https. */
export function logoUriProblem(uri: string): string | undefined {
  if (uri.length > MAX_URI_LENGTH) return `is longer than ${MAX_URI_LENGTH} characters`;
  if (!URL.canParse(uri) || new URL(uri).protocol !== 'https:') return 'must be an https URL';
  if (hasUserInfo(uri)) return 'must not contain a user name or password';
  return undefined;
}

/**
 * The grant types a client may register: supported ones, among them one that signs a user in and
 * issues the client its first tokens, authorization_code or the device code (refresh_token only
 * continues what one of them started).
 */
export function grantTypesProblem(grantTypes: readonly string[]): string | undefined {
  const unsupported = grantTypes.filter((grantType) => !isGrantType(grantType));
  if (unsupported.length) return `lists unsupported grant types: ${unsupported.join(' ')} (supported: ${GRANT_TYPES.join(', ')})`;
  if (!grantTypes.some((grantType) => (SIGN_IN_GRANT_TYPES as readonly string[]).includes(grantType))) {
    return `must include ${SIGN_IN_GRANT_TYPES.join(' or ')}, a grant that issues a client its first tokens`;
  }
  return undefined;
}

/** The scopes a client may ever ask for. */
export function scopeCeilingProblem(scopes: readonly string[], registry: ScopeRegistry): string | undefined {
  if (scopes.length === 0) return 'must list at least one scope';
  const unknown = scopes.filter((scope) => !registry.isKnown(scope));
  if (unknown.length) return `must list only known scopes, not ${unknown.join(' ')}`;
  return undefined;
}
