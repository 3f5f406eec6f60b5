/**
 * Validates a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document §4) and
 * turns it into the one client shape. A CIMD client is always public: the document is public, so
 * it can hold no shared secret, and anything that looks like one (or a private key) means its
 * author misunderstood that, so the whole document is refused. Unknown fields are ignored.
 */
import type { Config } from '../../config.js';
import { impersonatesPlatform, isIdTokenAlg, type OAuthClient } from '../clients/client.js';
import { OAuthError } from '../errors.js';
import { FORBIDDEN_REDIRECT_SCHEMES } from '../redirect-uri.js';

const MAX_NAME_LENGTH = 100;

function refuse(reason: string): never {
  throw new OAuthError('invalid_client', `client metadata document ${reason}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validRedirectUri(uri: unknown): uri is string {
  if (typeof uri !== 'string' || uri.includes('#')) return false;
  try {
    return !FORBIDDEN_REDIRECT_SCHEMES.has(new URL(uri).protocol);
  } catch {
    return false;
  }
}

function httpsUriOrNull(uri: unknown): string | null {
  if (typeof uri !== 'string') return null;
  try {
    return new URL(uri).protocol === 'https:' ? uri : null;
  } catch {
    return null;
  }
}

export function clientFromDocument(clientId: string, document: unknown, config: Config): OAuthClient {
  if (!isObject(document)) refuse('is not a JSON object');
  if (document.client_id !== clientId) refuse('has a client_id other than its own URL');

  const redirectUris = document.redirect_uris;
  if (!Array.isArray(redirectUris) || redirectUris.length === 0) refuse('must list redirect_uris');
  if (!redirectUris.every(validRedirectUri)) refuse('has a redirect URI that is not an absolute URI without a fragment');

  const name = typeof document.client_name === 'string' ? document.client_name.trim() : '';
  if (!name || name.length > MAX_NAME_LENGTH) refuse(`must have a client_name of 1 to ${MAX_NAME_LENGTH} characters`);
  if (impersonatesPlatform(name, config.platformName)) refuse('has a client_name that could be mistaken for the platform');

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
    logoUri: httpsUriOrNull(document.logo_uri),
    redirectUris,
    isPublic: true,
    secretHash: null,
    scopeCeiling: null,
    verified: false,
    accessTokenTtl: null,
    refreshTokenTtl: null,
    idTokenSignedResponseAlg: isIdTokenAlg(document.id_token_signed_response_alg) ? document.id_token_signed_response_alg : 'RS256',
    tokenEndpointAuthMethod: 'none',
  };
}
