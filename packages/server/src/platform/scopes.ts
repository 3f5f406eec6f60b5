/**
 * The platform's scopes: one read and one write scope for each kind of object its API serves (as
 * its personal API keys have), plus the OpenID Connect scopes, with the plain words the consent
 * page, the API key form and the developer app form show.
 */
import { OIDC_SCOPES, type ScopeRegistry } from '../core/oauth/scopes.js';

export const SCOPE_OBJECTS = {
  organization: 'organizations',
  project: 'projects',
  annotation: 'annotations',
  event_definition: 'event definitions',
  query: 'queries over your analytics data',
  user: 'your user account',
} as const;

export type ScopeObject = keyof typeof SCOPE_OBJECTS;

const OIDC_WORDS: Record<(typeof OIDC_SCOPES)[number], string> = {
  openid: 'Confirm who you are',
  profile: 'See your name',
  email: 'See your email address',
};

function describe(object: ScopeObject, action: 'read' | 'write'): string {
  const noun = SCOPE_OBJECTS[object];
  if (object === 'query') return action === 'read' ? 'Run read-only queries over your analytics data' : 'Run and save queries over your analytics data';
  if (object === 'user') return action === 'read' ? 'See your user account details' : 'Change your user account details';
  return action === 'read' ? `See your ${noun}` : `Create, change and delete ${noun}`;
}

export const SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = Object.freeze({
  ...OIDC_WORDS,
  ...Object.fromEntries(
    (Object.keys(SCOPE_OBJECTS) as ScopeObject[]).flatMap((object) => [
      [`${object}:read`, describe(object, 'read')],
      [`${object}:write`, describe(object, 'write')],
    ]),
  ),
});

export const SUPPORTED_SCOPES: readonly string[] = Object.keys(SCOPE_DESCRIPTIONS);

/** The platform API's scopes (everything but the OpenID Connect ones): what API keys may carry. */
export const RESOURCE_SCOPES: readonly string[] = SUPPORTED_SCOPES.filter((scope) => scope.includes(':'));

/** The registry the core checks requested scopes against. */
export const platformScopes: ScopeRegistry = {
  supported: SUPPORTED_SCOPES,
  isKnown: (scope) => Object.hasOwn(SCOPE_DESCRIPTIONS, scope),
};

/** The consent page's lines: write scopes swallow their read scope so nothing is said twice. */
export function describeScopes(scopes: string[]): Array<{ scope: string; description: string }> {
  const set = new Set(scopes);
  return scopes
    .filter((scope) => !(scope.endsWith(':read') && set.has(scope.replace(/:read$/, ':write'))))
    .map((scope) => ({ scope, description: SCOPE_DESCRIPTIONS[scope] ?? scope }));
}
