/** Clients with a row in the clients table: CLI-registered, self-serve apps and dynamic ones. */
import type { Repositories } from '../../store/index.js';
import type { Client, ClientKind } from '../../store/schema.js';
import { parseScope } from '../oauth/scopes.js';
import { isAuthMethod, type AuthMethod } from './client.js';
import { DEFAULT_GRANT_TYPES, isGrantType, type GrantType } from '../oauth/grant-types/names.js';
import { generateToken, hashToken } from '../crypto/token-formats.js';
import { isIdTokenAlg, type IdTokenAlg, type OAuthClient } from './client.js';

export function toOAuthClient(row: Client): OAuthClient {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    description: row.description,
    logoUri: row.logo_uri,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    isPublic: row.is_public === 1,
    secretHash: row.secret_hash,
    scopeCeiling: row.scope_ceiling === null ? null : parseScope(row.scope_ceiling),
    verified: row.verified === 1,
    accessTokenTtl: row.access_token_ttl,
    refreshTokenTtl: row.refresh_token_ttl,
    idTokenSignedResponseAlg: isIdTokenAlg(row.id_token_signed_response_alg) ? row.id_token_signed_response_alg : 'RS256',
    tokenEndpointAuthMethod: isAuthMethod(row.token_endpoint_auth_method) ? row.token_endpoint_auth_method : null,
    grantTypes: (JSON.parse(row.grant_types) as unknown[]).filter(isGrantType),
  };
}

export async function findRegisteredClient(store: Repositories, clientId: string): Promise<OAuthClient | undefined> {
  const row = await store.clients.find(clientId);
  return row && toOAuthClient(row);
}

export interface NewClientInput {
  kind: Exclude<ClientKind, 'cimd'>;
  name: string;
  redirectUris: string[];
  isPublic: boolean;
  scopeCeiling?: string[] | null;
  description?: string | null;
  logoUri?: string | null;
  organizationId?: string | null;
  createdBy?: string | null;
  accessTokenTtl?: number | null;
  refreshTokenTtl?: number | null;
  idTokenSignedResponseAlg?: IdTokenAlg | null;
  tokenEndpointAuthMethod?: AuthMethod | null;
  /** By default the code flow with refresh tokens. */
  grantTypes?: readonly GrantType[];
}

/** Creates a client; the secret (confidential clients only) is returned here and never again. */
export async function createClient(
  store: Repositories,
  input: NewClientInput,
  now: number,
): Promise<{ client: OAuthClient; clientSecret: string | undefined }> {
  const clientSecret = input.isPublic ? undefined : generateToken('clientSecret');
  const row: Client = {
    id: generateClientId(),
    kind: input.kind,
    name: input.name,
    description: input.description ?? null,
    logo_uri: input.logoUri ?? null,
    redirect_uris: JSON.stringify(input.redirectUris),
    is_public: input.isPublic ? 1 : 0,
    secret_hash: clientSecret ? hashToken(clientSecret) : null,
    scope_ceiling: input.scopeCeiling ? input.scopeCeiling.join(' ') : null,
    organization_id: input.organizationId ?? null,
    created_by: input.createdBy ?? null,
    verified: 0,
    access_token_ttl: input.accessTokenTtl ?? null,
    refresh_token_ttl: input.refreshTokenTtl ?? null,
    id_token_signed_response_alg: input.idTokenSignedResponseAlg ?? null,
    token_endpoint_auth_method: input.tokenEndpointAuthMethod ?? null,
    grant_types: JSON.stringify(input.grantTypes ?? DEFAULT_GRANT_TYPES),
    created_at: now,
    updated_at: now,
  };
  await store.clients.insert(row);
  return { client: toOAuthClient(row), clientSecret };
}

function generateClientId(): string {
  // A client id is public, so it needs no checksum; a shorter random body keeps URLs readable.
  return 'pca_' + generateToken('clientId').slice(4, 4 + 32);
}

/** Replaces a confidential client's secret; the old one stops working at once. */
export async function rotateClientSecret(store: Repositories, clientId: string, now: number): Promise<string> {
  const clientSecret = generateToken('clientSecret');
  if (!(await store.clients.replaceSecret(clientId, hashToken(clientSecret), now))) throw new Error(`no confidential client ${clientId}`);
  return clientSecret;
}
