/**
 * Fetches a Client ID Metadata Document without letting the URL reach anything it should not:
 * the host is resolved here, every address it resolves to must pass the address policy, and the
 * connection goes to the address that was checked (so a second, rebinding DNS answer is never
 * used), with the certificate still verified against the host name. No redirects are followed,
 * only a 200 counts, the body is capped, and the whole exchange has one deadline.
 */
import { lookup } from 'node:dns/promises';
import { request, type RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { OAuthError } from '../../oauth/errors.js';
import { isFetchableAddress, type AddressPolicy } from './address-policy.js';

export interface SafeFetchOptions extends AddressPolicy {
  /** Extra trusted CA certificate (PEM); development and tests only. */
  extraCa: string | undefined;
  /** Deadline for resolving, connecting and reading the whole body. */
  timeoutMs: number;
  maxBytes: number;
}

export interface FetchedDocument {
  body: string;
  cacheControl: string | undefined;
}

function refusal(reason: string): OAuthError {
  return new OAuthError('invalid_client', `client metadata document ${reason}`);
}

/** Resolves the host and returns the one address to connect to, after checking all of them. */
async function pinAddress(host: string, policy: AddressPolicy): Promise<string> {
  let addresses: Array<{ address: string; family: number }>;
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true });
  } catch {
    throw refusal(`host ${host} does not resolve`);
  }
  // A name with any special-use address is refused outright rather than trimmed to its public ones.
  if (addresses.length === 0 || !addresses.every(({ address }) => isFetchableAddress(address, policy))) {
    throw refusal(`host ${host} resolves to a special-use address`);
  }
  // IPv4 first: the order DNS answers in is not stable across resolvers, a pinned choice should be.
  return [...addresses].sort((a, b) => a.family - b.family)[0]!.address;
}

function get(options: RequestOptions, maxBytes: number, signal: AbortSignal): Promise<FetchedDocument> {
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => reject(refusal(signal.aborted ? 'took too long to arrive' : reason));
    const outgoing = request({ ...options, signal }, (response) => {
      if (response.statusCode !== 200) {
        response.destroy();
        return fail(`answered HTTP ${response.statusCode} (only 200 is accepted; redirects are not followed)`);
      }
      if (Number(response.headers['content-length'] ?? 0) > maxBytes) {
        response.destroy();
        return fail(`is larger than ${maxBytes} bytes`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxBytes) return void chunks.push(chunk);
        response.destroy();
        fail(`is larger than ${maxBytes} bytes`);
      });
      response.on('end', () => resolve({ body: Buffer.concat(chunks).toString('utf8'), cacheControl: response.headers['cache-control'] }));
      response.on('error', () => fail('could not be read'));
    });
    outgoing.on('error', () => fail('could not be fetched'));
    outgoing.end();
  });
}

export async function safeFetch(url: URL, options: SafeFetchOptions): Promise<FetchedDocument> {
  // One deadline for everything; the lookup cannot be cancelled, so it is raced against it.
  const signal = AbortSignal.timeout(options.timeoutMs);
  const deadline = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(refusal('took too long to arrive')), { once: true }));
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const address = await Promise.race([pinAddress(host, options), deadline]);
  return get(
    {
      host: address,
      port: url.port || 443,
      path: url.pathname,
      method: 'GET',
      // TLS verifies the certificate for the name in the URL, not for the pinned address (SNI too).
      ...(isIP(host) ? {} : { servername: host }),
      headers: { host: url.host, accept: 'application/json', 'user-agent': 'Tessera CIMD fetcher' },
      ...(options.extraCa ? { ca: [...rootCertificates, options.extraCa] } : {}),
      agent: false,
    },
    options.maxBytes,
    signal,
  );
}
