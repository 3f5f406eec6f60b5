/**
 * The scope registry: every scope Tessera knows, with the plain words the consent page shows.
 * `<object>:write` implies `<object>:read`.
 */
import { OAuthError } from './errors.js';

export const SCOPE_OBJECTS = {
  organization: 'organizations',
  project: 'projects',
  annotation: 'annotations',
  event_definition: 'event definitions',
  query: 'queries over your analytics data',
  user: 'your user account',
} as const;

export type ScopeObject = keyof typeof SCOPE_OBJECTS;

export const OIDC_SCOPES = {
  openid: 'Confirm who you are',
  profile: 'See your name',
  email: 'See your email address',
} as const;

function describe(object: ScopeObject, action: 'read' | 'write'): string {
  const noun = SCOPE_OBJECTS[object];
  if (object === 'query') return action === 'read' ? 'Run read-only queries over your analytics data' : 'Run and save queries over your analytics data';
  if (object === 'user') return action === 'read' ? 'See your user account details' : 'Change your user account details';
  return action === 'read' ? `See your ${noun}` : `Create, change and delete ${noun}`;
}

export const SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = Object.freeze({
  ...OIDC_SCOPES,
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

export function isKnownScope(scope: string): boolean {
  return Object.hasOwn(SCOPE_DESCRIPTIONS, scope);
}

/** Splits a scope parameter (RFC 6749 §3.3): space-delimited, case-sensitive, deduplicated. */
export function parseScope(value: string | undefined | null): string[] {
  if (!value) return [];
  return [...new Set(value.split(' ').filter(Boolean))];
}

export function formatScope(scopes: Iterable<string>): string {
  return [...scopes].join(' ');
}

/** True when `held` satisfies `needed`: the same scope, or the write scope of a read scope. */
export function scopeSatisfies(held: Iterable<string>, needed: string): boolean {
  const set: ReadonlySet<string> = held instanceof Set ? held : new Set(held);
  if (set.has(needed)) return true;
  return needed.endsWith(':read') && set.has(needed.slice(0, -':read'.length) + ':write');
}

/** Every scope in `requested` is covered by `granted` (write covering read). */
export function scopesCovered(granted: Iterable<string>, requested: Iterable<string>): boolean {
  const set = new Set(granted);
  for (const scope of requested) if (!scopeSatisfies(set, scope)) return false;
  return true;
}

/**
 * The scopes of `held` that `bound` allows, as `bound` allows them: a write scope whose object
 * `bound` allows only to read becomes the read scope.
 */
export function boundScopes(held: Iterable<string>, bound: Iterable<string>): string[] {
  const allowed = new Set(bound);
  const kept = new Set<string>();
  for (const scope of held) {
    if (scopeSatisfies(allowed, scope)) kept.add(scope);
    else if (scope.endsWith(':write') && allowed.has(scope.slice(0, -':write'.length) + ':read')) kept.add(scope.slice(0, -':write'.length) + ':read');
  }
  return [...kept];
}

/**
 * Checks a requested scope against the registry and the client's ceiling. Unknown scopes and
 * scopes beyond the ceiling are both `invalid_scope`: silently dropping them would hand the
 * client a token it did not expect.
 */
export function validateRequestedScope(requested: string[], ceiling: string[] | null): string[] {
  if (requested.length === 0) throw new OAuthError('invalid_scope', 'scope is required');
  const unknown = requested.filter((scope) => !isKnownScope(scope));
  if (unknown.length) throw new OAuthError('invalid_scope', `unknown scope: ${unknown.join(' ')}`);
  if (ceiling) {
    const beyond = requested.filter((scope) => !scopeSatisfies(ceiling, scope));
    if (beyond.length) {
      throw new OAuthError('invalid_scope', `scope not allowed for this client: ${beyond.join(' ')}`);
    }
  }
  return requested;
}

/** The consent page's lines: write scopes swallow their read scope so nothing is said twice. */
export function describeScopes(scopes: string[]): Array<{ scope: string; description: string }> {
  const set = new Set(scopes);
  return scopes
    .filter((scope) => !(scope.endsWith(':read') && set.has(scope.replace(/:read$/, ':write'))))
    .map((scope) => ({ scope, description: SCOPE_DESCRIPTIONS[scope] ?? scope }));
}
