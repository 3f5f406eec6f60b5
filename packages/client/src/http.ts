/** The HTTP details the client shares: discovery's URL, client authentication, JSON bodies. */
import { InvalidResponseError } from './errors.js';

/** RFC 8414 §3: the well-known segment goes between the host and the issuer's path. */
export function metadataUrl(issuer: string): string {
  const url = new URL(issuer);
  url.pathname = `/.well-known/oauth-authorization-server${url.pathname === '/' ? '' : url.pathname}`;
  return url.href;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined for Basic. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${btoa(`${formEncode(clientId)}:${formEncode(clientSecret)}`)}`;
}

/** A JSON object body; anything else is refused, never half-read. */
export async function readObject(response: Response): Promise<Record<string, unknown>> {
  const body: unknown = await response.json().catch(() => undefined);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidResponseError('invalid_response', 'Tessera answered with something other than a JSON object');
  }
  return body as Record<string, unknown>;
}

/** An http(s) URL without query or fragment, returned without its trailing slash; undefined otherwise. */
export function baseUrlOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password) return undefined;
  return url.href.replace(/\/$/, '');
}
