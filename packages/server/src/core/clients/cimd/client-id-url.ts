/**
 * Which client ids are Client ID Metadata Document URLs, and which of those are acceptable
 * (draft-ietf-oauth-client-id-metadata-document §3). A client id is compared as an exact string,
 * so only a URL already in its canonical form is accepted: two spellings of one URL would
 * otherwise be two clients with one document.
 */
import { OAuthError } from '../../oauth/errors.js';

function refuse(reason: string): never {
  throw new OAuthError('invalid_client', `client_id URL ${reason}`);
}

/** Parses a CIMD client id; throws `invalid_client` for any URL the draft forbids or we refuse. */
export function parseClientIdUrl(clientId: string): URL {
  if (clientId.length > 2048) refuse('is too long');
  if (/[\s\x00-\x1f\x7f]/.test(clientId)) refuse('must not contain whitespace or control characters');
  if (!clientId.startsWith('https://')) refuse('must use the https scheme');
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    refuse('is not a valid URL');
  }
  if (url.username || url.password || clientId.slice('https://'.length).split('/')[0]!.includes('@')) refuse('must not contain userinfo');
  if (clientId.includes('#')) refuse('must not contain a fragment');
  if (clientId.includes('?')) refuse('must not contain a query');
  // Checked on the raw string: the URL parser resolves dot segments (also %2e-encoded ones) away.
  const pathStart = clientId.indexOf('/', 'https://'.length);
  const rawPath = pathStart < 0 ? '' : clientId.slice(pathStart);
  if (rawPath.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) refuse('must not contain . or .. path segments');
  // `app.example.` is the same host as `app.example`: another spelling of the same client id,
  // which the blocklist and the consent page's host would take for another host.
  if (url.hostname.endsWith('.')) refuse(`must not end its host with a trailing dot (${url.hostname.replace(/\.+$/, '')} is the same host)`);
  if (url.pathname === '/') refuse('must have a path');
  if (url.href !== clientId) refuse(`must be in canonical form (${url.href})`);
  return url;
}
