/**
 * Scopes (RFC 6749 §3.3): parsing, and the rule every check shares, `<object>:write` implies
 * `<object>:read`. Which scopes exist, and the words the consent page uses for them, belong to the
 * platform (platform/scopes.ts), which the core reaches through `ScopeRegistry`.
 */
import { OAuthError } from './errors.js';

/** The OpenID Connect scopes (Core §5.4), known to every deployment. */
export const OIDC_SCOPES = ['openid', 'profile', 'email'] as const;

/** The scopes a deployment offers: the OpenID Connect ones and its API's. */
export interface ScopeRegistry {
  /** Every scope, in the order discovery lists them. */
  readonly supported: readonly string[];
  isKnown(scope: string): boolean;
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
 * Checks a requested scope against the platform's registry and the client's ceiling. Unknown scopes and
 * scopes beyond the ceiling are both `invalid_scope`: silently dropping them would hand the
 * client a token it did not expect.
 */
export function validateRequestedScope(requested: string[], ceiling: string[] | null, registry: ScopeRegistry): string[] {
  if (requested.length === 0) throw new OAuthError('invalid_scope', 'scope is required');
  const unknown = requested.filter((scope) => !registry.isKnown(scope));
  if (unknown.length) throw new OAuthError('invalid_scope', `unknown scope: ${unknown.join(' ')}`);
  if (ceiling) {
    const beyond = requested.filter((scope) => !scopeSatisfies(ceiling, scope));
    if (beyond.length) {
      throw new OAuthError('invalid_scope', `scope not allowed for this client: ${beyond.join(' ')}`);
    }
  }
  return requested;
}
