/**
 * Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3):
 * `client_secret_basic`, `client_secret_post`, or `none` for public clients. A public client that
 * sends a secret anyway (integration platforms send a placeholder) is treated as public.
 */
import type { Context } from '../context.js';
import type { AuthMethod, OAuthClient, ResolveMeta } from '../clients/client.js';
import { OAuthError } from './errors.js';
import { constantTimeEqual, hashToken } from '../crypto/token-formats.js';

export interface ClientCredentials {
  clientId: string | undefined;
  clientSecret: string | undefined;
  method: AuthMethod;
}

/**
 * The id and secret of an HTTP Basic Authorization header, still form-urlencoded (RFC 6749
 * §2.3.1 encodes them before joining them): undefined when the header is not Basic, null when the
 * credentials have no colon.
 */
export function basicCredentialParts(authorization: string | undefined): [id: string, secret: string] | null | undefined {
  if (!authorization || !/^basic /i.test(authorization)) return undefined;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

/** Undoes RFC 6749 §2.3.1's form-encoding of a Basic credential part; undefined when malformed. */
export function formDecode(part: string): string | undefined {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function decodeBasicPart(part: string): string {
  const decoded = formDecode(part);
  if (decoded === undefined) throw new OAuthError('invalid_client', 'malformed Authorization header');
  return decoded;
}

/** Reads the credentials from the Authorization header and the body; refuses two methods at once. */
export function readClientCredentials(
  authorization: string | undefined,
  params: Record<string, string | undefined>,
): ClientCredentials {
  const basic = basicCredentialParts(authorization);
  if (basic !== undefined) {
    if (basic === null) throw new OAuthError('invalid_client', 'malformed Basic credentials');
    if (params.client_secret !== undefined) {
      throw new OAuthError('invalid_request', 'use only one client authentication method');
    }
    const clientId = decodeBasicPart(basic[0]);
    if (params.client_id !== undefined && params.client_id !== clientId) {
      throw new OAuthError('invalid_request', 'client_id in the body differs from the Authorization header');
    }
    return { clientId, clientSecret: decodeBasicPart(basic[1]), method: 'client_secret_basic' };
  }
  if (params.client_secret !== undefined) {
    return { clientId: params.client_id, clientSecret: params.client_secret, method: 'client_secret_post' };
  }
  return { clientId: params.client_id, clientSecret: undefined, method: 'none' };
}

export async function authenticateClient(ctx: Context, credentials: ClientCredentials, meta: ResolveMeta = {}): Promise<OAuthClient> {
  if (!credentials.clientId) throw new OAuthError('invalid_client', 'client authentication is required');
  const client = await ctx.clients.resolveRecent(credentials.clientId, meta);
  if (!client) throw new OAuthError('invalid_client', 'unknown client');
  if (client.isPublic) return client; // any secret sent by a public client is ignored
  if (credentials.clientSecret === undefined || !client.secretHash) {
    throw new OAuthError('invalid_client', 'client secret is required for this client');
  }
  if (client.tokenEndpointAuthMethod && credentials.method !== client.tokenEndpointAuthMethod) {
    throw new OAuthError('invalid_client', `this client registered token_endpoint_auth_method ${client.tokenEndpointAuthMethod}; authenticate with it`);
  }
  if (!constantTimeEqual(hashToken(credentials.clientSecret), client.secretHash)) {
    throw new OAuthError('invalid_client', 'client authentication failed');
  }
  return client;
}
