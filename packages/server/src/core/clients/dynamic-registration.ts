/**
 * Dynamic Client Registration (RFC 7591): anyone may register a client, so the metadata is held to
 * the same rules as a self-serve app's and the result is an unverified client of kind `dynamic`.
 * MCP clients that cannot host a Client ID Metadata Document register this way.
 */
import { recordAudit, type RequestMeta } from '../audit.js';
import type { Context } from '../context.js';
import { isAuthMethod, TOKEN_ENDPOINT_AUTH_METHODS, type AuthMethod } from './client.js';
import { OAuthError } from '../oauth/errors.js';
import { formatScope, parseScope, type ScopeRegistry } from '../oauth/scopes.js';
import { ID_TOKEN_ALGS, isIdTokenAlg, type IdTokenAlg } from './client.js';
import { DEFAULT_GRANT_TYPES, isGrantType, responseTypesFor, type GrantType } from '../oauth/grant-types/names.js';
import { clientNameProblem, grantTypesProblem, logoUriProblem, needsRedirectUris, normalizeClientName, redirectUrisProblem, scopeCeilingProblem, type ClientRules } from './metadata-rules.js';
import { createClient } from './registered.js';

/** The metadata Tessera keeps and echoes back; everything else a client sends is ignored (RFC 7591 §2). */
export interface ClientRegistration {
  redirectUris: string[];
  tokenEndpointAuthMethod: AuthMethod;
  grantTypes: GrantType[];
  responseTypes: string[];
  clientName: string;
  /** The scope ceiling; null: any scope in the registry. */
  scope: string[] | null;
  logoUri: string | null;
  idTokenSignedResponseAlg: IdTokenAlg | null;
}

/** RFC 7591 §3.2.1. */
export interface RegistrationResponse {
  client_id: string;
  client_secret?: string;
  client_id_issued_at: number;
  client_secret_expires_at: 0;
  redirect_uris: string[];
  token_endpoint_auth_method: AuthMethod;
  grant_types: GrantType[];
  response_types: string[];
  client_name: string;
  scope?: string;
  logo_uri?: string;
  id_token_signed_response_alg?: IdTokenAlg;
}

function refuse(description: string): never {
  throw new OAuthError('invalid_client_metadata', description);
}

function stringArray(metadata: Record<string, unknown>, field: string, fallback: string[]): string[] {
  const value = metadata[field];
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) refuse(`${field} must be an array of strings`);
  return [...new Set(value)];
}

function optionalString(metadata: Record<string, unknown>, field: string): string | undefined {
  const value = metadata[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') refuse(`${field} must be a string`);
  return value;
}

/** RFC 7591 §2: required for redirect-based flows; a client registered only for the device grant may leave them out. */
function redirectUris(metadata: Record<string, unknown>, grants: GrantType[]): string[] {
  if (metadata.redirect_uris === undefined && needsRedirectUris(grants)) refuse('redirect_uris is required for the authorization_code grant');
  const uris = stringArray(metadata, 'redirect_uris', []);
  const found = redirectUrisProblem(uris, grants);
  if (found?.uri !== undefined) throw new OAuthError('invalid_redirect_uri', `redirect URI ${found.uri} ${found.problem}`);
  if (found) refuse(`redirect_uris ${found.problem}`);
  return uris;
}

function tokenEndpointAuthMethod(metadata: Record<string, unknown>): AuthMethod {
  // RFC 7591 §2: client_secret_basic when the client does not say.
  const method = optionalString(metadata, 'token_endpoint_auth_method') ?? 'client_secret_basic';
  if (!isAuthMethod(method)) refuse(`token_endpoint_auth_method must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`);
  return method;
}

function grantTypes(metadata: Record<string, unknown>): GrantType[] {
  const grants = stringArray(metadata, 'grant_types', [...DEFAULT_GRANT_TYPES]);
  const problem = grantTypesProblem(grants);
  if (problem) refuse(`grant_types ${problem}`);
  return grants.filter(isGrantType);
}

/** RFC 7591 §2.1: the response types must be exactly those that go with the grant types (code with authorization_code). */
function responseTypes(metadata: Record<string, unknown>, grants: GrantType[]): string[] {
  const expected = responseTypesFor(grants);
  const types = stringArray(metadata, 'response_types', expected);
  if (types.length !== expected.length || !expected.every((type) => types.includes(type))) {
    refuse(`response_types must be ${JSON.stringify(expected)} to go with grant_types ${grants.join(' ')} (RFC 7591 §2.1)`);
  }
  return types;
}

function clientName(metadata: Record<string, unknown>, platformName: string): string {
  const name = normalizeClientName(optionalString(metadata, 'client_name') ?? '');
  // The consent page names the client; an anonymous one would ask users to trust nobody in particular.
  if (!name) refuse('client_name is required');
  const problem = clientNameProblem(name, platformName);
  if (problem) refuse(`client_name ${problem}`);
  return name;
}

function scopeCeiling(metadata: Record<string, unknown>, registry: ScopeRegistry): string[] | null {
  const value = optionalString(metadata, 'scope');
  if (value === undefined) return null;
  const scopes = parseScope(value);
  const problem = scopeCeilingProblem(scopes, registry);
  if (problem) refuse(`scope ${problem}`);
  return scopes;
}

function logoUri(metadata: Record<string, unknown>): string | null {
  const value = optionalString(metadata, 'logo_uri');
  if (value === undefined) return null;
  const problem = logoUriProblem(value);
  if (problem) refuse(`logo_uri ${problem}`);
  return value;
}

function idTokenSignedResponseAlg(metadata: Record<string, unknown>): IdTokenAlg | null {
  const value = metadata.id_token_signed_response_alg;
  if (value === undefined) return null;
  if (!isIdTokenAlg(value)) refuse(`id_token_signed_response_alg must be one of ${ID_TOKEN_ALGS.join(', ')}`);
  return value;
}

/** Checks registration metadata and keeps what Tessera uses; throws `invalid_redirect_uri` or `invalid_client_metadata`. */
export function validateClientMetadata(metadata: unknown, rules: ClientRules): ClientRegistration {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) refuse('the request body must be a JSON object');
  const fields = metadata as Record<string, unknown>;
  const grants = grantTypes(fields);
  return {
    redirectUris: redirectUris(fields, grants),
    tokenEndpointAuthMethod: tokenEndpointAuthMethod(fields),
    grantTypes: grants,
    responseTypes: responseTypes(fields, grants),
    clientName: clientName(fields, rules.platformName),
    scope: scopeCeiling(fields, rules.scopes),
    logoUri: logoUri(fields),
    idTokenSignedResponseAlg: idTokenSignedResponseAlg(fields),
  };
}

/** Registers a client and returns the RFC 7591 §3.2.1 response; the secret appears here only. */
export async function registerClient(ctx: Context, metadata: unknown, meta: RequestMeta): Promise<RegistrationResponse> {
  const registration = validateClientMetadata(metadata, { platformName: ctx.config.platformName, scopes: ctx.scopes });
  const now = ctx.now();
  const { client, clientSecret } = await ctx.store.transaction(async (tx) => {
    const created = await createClient(
      tx,
      {
        kind: 'dynamic',
        name: registration.clientName,
        redirectUris: registration.redirectUris,
        isPublic: registration.tokenEndpointAuthMethod === 'none',
        scopeCeiling: registration.scope,
        logoUri: registration.logoUri,
        idTokenSignedResponseAlg: registration.idTokenSignedResponseAlg,
        tokenEndpointAuthMethod: registration.tokenEndpointAuthMethod,
        grantTypes: registration.grantTypes,
      },
      now,
    );
    await recordAudit(
      tx,
      {
        type: 'client.registered',
        userId: null,
        actor: `client:${created.client.id}`,
        clientId: created.client.id,
        ip: meta.ip,
        detail: { client_name: registration.clientName, redirect_uris: registration.redirectUris, token_endpoint_auth_method: registration.tokenEndpointAuthMethod, grant_types: registration.grantTypes },
      },
      now,
    );
    return created;
  });

  return {
    client_id: client.id,
    ...(clientSecret === undefined ? {} : { client_secret: clientSecret }),
    client_id_issued_at: Math.floor(now / 1000),
    client_secret_expires_at: 0,
    redirect_uris: registration.redirectUris,
    token_endpoint_auth_method: registration.tokenEndpointAuthMethod,
    grant_types: registration.grantTypes,
    response_types: registration.responseTypes,
    client_name: registration.clientName,
    ...(registration.scope ? { scope: formatScope(registration.scope) } : {}),
    ...(registration.logoUri ? { logo_uri: registration.logoUri } : {}),
    ...(registration.idTokenSignedResponseAlg ? { id_token_signed_response_alg: registration.idTokenSignedResponseAlg } : {}),
  };
}
