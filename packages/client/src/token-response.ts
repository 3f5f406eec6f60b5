/** Reading the token endpoint's answer (RFC 6749 §5.1) with Tessera's narrowing and region. */
import { InvalidResponseError } from './errors.js';
import { baseUrlOf } from './http.js';
import type { AccessLevel, StoredTokens } from './token-store.js';

const isAccessLevel = (value: unknown): value is AccessLevel => value === 'all' || value === 'organization' || value === 'project';
const stringArray = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;

export function hasScope(scope: string, wanted: string): boolean {
  return scope.split(' ').includes(wanted);
}

/**
 * The tokens to store, and the ID token still to verify. A refresh answer may leave out what did
 * not change, so `previous` fills the gaps (its ID token and claims too, until a new one is verified).
 */
export function parseTokenResponse(body: Record<string, unknown>, issuedAt: number, previous?: StoredTokens): { tokens: StoredTokens; idToken: string | undefined } {
  const { access_token, token_type, expires_in, base_url, id_token } = body;
  if (typeof access_token !== 'string' || typeof token_type !== 'string' || token_type.toLowerCase() !== 'bearer' || typeof expires_in !== 'number') {
    throw new InvalidResponseError('invalid_response', 'the token response lacks a Bearer access_token with expires_in');
  }
  const baseUrl = base_url === undefined ? previous?.baseUrl : baseUrlOf(base_url);
  if (base_url !== undefined && baseUrl === undefined) throw new InvalidResponseError('invalid_response', 'the token response names a base_url that is not an http(s) URL');
  if (id_token !== undefined && typeof id_token !== 'string') throw new InvalidResponseError('invalid_response', 'the token response has an id_token that is not a string');
  const tokens: StoredTokens = {
    accessToken: access_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : previous?.refreshToken,
    expiresAt: issuedAt + expires_in * 1000,
    scope: typeof body.scope === 'string' ? body.scope : (previous?.scope ?? ''),
    accessLevel: isAccessLevel(body.access_level) ? body.access_level : (previous?.accessLevel ?? 'all'),
    scopedOrganizations: stringArray(body.scoped_organizations) ?? previous?.scopedOrganizations ?? [],
    scopedProjects: stringArray(body.scoped_projects) ?? previous?.scopedProjects ?? [],
  };
  if (baseUrl !== undefined) tokens.baseUrl = baseUrl;
  if (previous?.idToken !== undefined) {
    tokens.idToken = previous.idToken;
    tokens.idTokenClaims = previous.idTokenClaims;
  }
  return { tokens, idToken: id_token };
}
