/**
 * One call from the front to a region: the client's request forwarded as it came (body and
 * Authorization header byte for byte), bounded by a timeout, never following redirects. Bodies and
 * credentials are never logged.
 */
import type { Region } from '../../config.js';

export interface ForwardedRequest {
  method: 'GET' | 'POST';
  path: string;
  /** Content-Type, Authorization and X-Forwarded-For: what the region needs to answer. */
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/** A region's answer, with only the headers that belong to the protocol (no cookies). */
export interface UpstreamAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A region that could not be reached or did not answer in time. */
export interface Unreachable {
  unreachable: true;
  reason: string;
}

const RELAYED_HEADERS = ['content-type', 'cache-control', 'pragma', 'www-authenticate', 'retry-after'];

export async function callRegion(region: Region, request: ForwardedRequest, timeoutMs: number): Promise<UpstreamAnswer | Unreachable> {
  try {
    const response = await fetch(`${region.baseUrl}${request.path}`, {
      method: request.method,
      headers: request.headers,
      ...(request.body && request.method === 'POST' ? { body: new Uint8Array(request.body) } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const headers: Record<string, string> = {};
    for (const name of RELAYED_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    return { status: response.status, headers, body: Buffer.from(await response.arrayBuffer()) };
  } catch (error) {
    // A code or name only (ECONNREFUSED, TimeoutError): never a URL, header or body.
    const failure = error as Error & { cause?: { code?: string } };
    return { unreachable: true, reason: failure.cause?.code ?? failure.name };
  }
}

export function isUnreachable(answer: UpstreamAnswer | Unreachable): answer is Unreachable {
  return 'unreachable' in answer;
}

/** The JSON body of an answer, or undefined when it is not JSON. */
export function jsonBody(answer: UpstreamAnswer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(answer.body.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
