/**
 * Validates a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document §4) and
 * turns it into the one client shape. A CIMD client is always public: the document is public, so
 * it can hold no shared secret, and anything that looks like one (or a private key) means its
 * author misunderstood that, so the whole document is refused. Unknown fields are ignored.
 */
import { isIdTokenAlg, type OAuthClient } from '../client.js';
import { clientNameProblem, grantTypesProblem, logoUriProblem, needsRedirectUris, normalizeClientName, redirectUrisProblem, type ClientRules } from '../metadata-rules.js';
import { DEFAULT_GRANT_TYPES, isGrantType, type GrantType } from '../../oauth/grant-types/names.js';
import { OAuthError } from '../../oauth/errors.js';
import { parseScope, type ScopeRegistry } from '../../oauth/scopes.js';

function refuse(reason: string): never {
  throw new OAuthError('invalid_client', `client metadata document ${reason}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Required for the code flow; a client of the device grant alone (RFC 8628) has no redirect. */
function redirectUris(document: Record<string, unknown>, grants: GrantType[]): string[] {
  const uris = document.redirect_uris === undefined && !needsRedirectUris(grants) ? [] : document.redirect_uris;
  if (!Array.isArray(uris) || !uris.every((uri): uri is string => typeof uri === 'string')) refuse('must list redirect_uris as an array of strings');
  const found = redirectUrisProblem(uris, grants);
  if (found) refuse(found.uri === undefined ? found.problem : `redirect URI ${found.uri} ${found.problem}`);
  return [...new Set(uris)];
}

/** A logo is decoration, so one that breaks the rule is dropped rather than the whole client refused. */
function logoUriOrNull(uri: unknown): string | null {
  return typeof uri === 'string' && !logoUriProblem(uri) ? uri : null;
}

/**
 * The document's `scope` (RFC 7591 §2) is the client's ceiling; without one it may ask for any scope.
 * A document serves its client at many servers, so scopes this one does not know are passed over
 * rather than refusing the client; listing none this server knows leaves it nothing to ask for.
 */
function scopeCeiling(scope: unknown, registry: ScopeRegistry): string[] | null {
  if (scope === undefined) return null;
  if (typeof scope !== 'string') refuse('must give scope as a space-separated string');
  return parseScope(scope).filter((known) => registry.isKnown(known));
}

/**
 * The document's `grant_types` (RFC 7591 §2), by default the code flow with refresh tokens. As with
 * scopes, grant types this server does not offer are passed over; what remains must follow the rule
 * every client follows.
 */
function grantTypes(value: unknown): GrantType[] {
  if (value === undefined) return [...DEFAULT_GRANT_TYPES];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) refuse('must list grant_types as an array of strings');
  const offered = [...new Set(value.filter(isGrantType))];
  const problem = grantTypesProblem(offered);
  if (problem) refuse(`grant_types ${problem}`);
  return offered;
}

export function clientFromDocument(clientId: string, document: unknown, rules: ClientRules): OAuthClient {
  if (!isObject(document)) refuse('is not a JSON object');
  if (document.client_id !== clientId) refuse('has a client_id other than its own URL');

  const grants = grantTypes(document.grant_types);
  const uris = redirectUris(document, grants);
  const ceiling = scopeCeiling(document.scope, rules.scopes);

  const name = typeof document.client_name === 'string' ? normalizeClientName(document.client_name) : '';
  const nameProblem = clientNameProblem(name, rules.platformName);
  if (nameProblem) refuse(`client_name ${nameProblem}`);

  const authMethod = document.token_endpoint_auth_method ?? 'none';
  if (authMethod !== 'none') refuse('must use token_endpoint_auth_method none (a public document cannot hold a secret)');
  if ('client_secret' in document) refuse('must not contain a client_secret');
  // A JWK Set, or a lone JWK put where the set belongs: either way a `d` member is a private key.
  const jwks = document.jwks;
  const keys: unknown[] = isObject(jwks) ? (Array.isArray(jwks.keys) ? jwks.keys : [jwks]) : [];
  if (keys.some((key) => isObject(key) && 'd' in key)) refuse('must not contain private key material');

  return {
    id: clientId,
    kind: 'cimd',
    name,
    description: null,
    logoUri: logoUriOrNull(document.logo_uri),
    redirectUris: uris,
    isPublic: true,
    secretHash: null,
    scopeCeiling: ceiling,
    verified: false,
    accessTokenTtl: null,
    refreshTokenTtl: null,
    idTokenSignedResponseAlg: isIdTokenAlg(document.id_token_signed_response_alg) ? document.id_token_signed_response_alg : 'RS256',
    tokenEndpointAuthMethod: 'none',
    grantTypes: grants,
  };
}
