/**
 * The app the region picker names. The front has no database, so it asks every region at once for
 * the client's public display data (ENDPOINTS.clientDisplay: the consent page's name, logo and
 * verified mark) and takes the first region that knows the client. A Client ID Metadata Document
 * client is named by its URL's host without asking: the id says it, and no region fetches a
 * document for a public lookup.
 */
import type { Region } from '../../config.js';
import { ENDPOINTS } from '../../core/endpoints.js';
import { isUnreachable, jsonBody, type ForwardedRequest, type Unreachable, type UpstreamAnswer } from './upstream.js';

export interface AppIdentity {
  name: string;
  /** An https logo, or null for the lettered placeholder. */
  logoUri: string | null;
  verified: boolean;
}

/** The request's client id, when it names exactly one. */
export function requestedClientId(query: string): string | undefined {
  const ids = new URLSearchParams(query).getAll('client_id');
  return ids.length === 1 && ids[0] ? ids[0] : undefined;
}

function metadataDocumentHost(clientId: string): string | undefined {
  return clientId.startsWith('https://') && URL.canParse(clientId) ? new URL(clientId).host : undefined;
}

/** The request a region is asked; the user's address goes along, so a region's per-IP limit counts the user. */
export function displayRequest(clientId: string, userIp: string): ForwardedRequest {
  return { method: 'GET', path: `${ENDPOINTS.clientDisplay}?client_id=${encodeURIComponent(clientId)}`, headers: { accept: 'application/json', 'x-forwarded-for': userIp }, body: undefined };
}

/** A region's answer as the picker may show it: a 200 about this very client, its logo only when https. */
export function identityFromAnswer(clientId: string, answer: UpstreamAnswer): AppIdentity | undefined {
  const body = answer.status === 200 ? jsonBody(answer) : undefined;
  if (!body || body.client_id !== clientId) return undefined;
  const { client_name: name, logo_uri: logoUri, verified } = body;
  if (typeof name !== 'string' || name.trim() === '') return undefined;
  const httpsLogo = typeof logoUri === 'string' && URL.canParse(logoUri) && new URL(logoUri).protocol === 'https:';
  return { name, logoUri: httpsLogo ? logoUri : null, verified: verified === true };
}

export class RegionsUnavailableError extends Error {}

/** A region's "I do not know this client". */
const NOT_HERE = Symbol('not here');

/**
 * The first answer that names the client; null when every region said it does not know it. When
 * none named it and some region could not answer (unreachable, too slow, a 429 or 5xx), throws: the
 * answer is not known, so it must not be cached.
 */
export async function findAppIdentity(
  regions: Region[],
  clientId: string,
  call: (region: Region) => Promise<UpstreamAnswer | Unreachable>,
): Promise<AppIdentity | null> {
  const host = metadataDocumentHost(clientId);
  if (host) return { name: host, logoUri: null, verified: false };
  const asked = regions.map(async (region): Promise<AppIdentity> => {
    const answer = await call(region);
    if (isUnreachable(answer)) throw new RegionsUnavailableError(`region ${region.name} did not answer (${answer.reason})`);
    const identity = identityFromAnswer(clientId, answer);
    if (identity) return identity;
    if (answer.status === 404) throw NOT_HERE;
    throw new RegionsUnavailableError(`region ${region.name} answered ${answer.status}`);
  });
  try {
    return await Promise.any(asked);
  } catch (error) {
    const reasons = (error as AggregateError).errors;
    if (reasons.every((reason) => reason === NOT_HERE)) return null;
    throw reasons.find((reason) => reason !== NOT_HERE);
  }
}
