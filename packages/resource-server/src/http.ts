/**
 * Requests to the authorization server. Whatever goes wrong on the way (no connection, a timeout,
 * a 5xx or 429) says nothing about the token: it becomes a 503 `temporarily_unavailable`, never
 * an `invalid_token` that would make a client throw its token away.
 */
import http from 'node:http';
import https from 'node:https';
import { BearerError } from './errors.js';

export function unavailable(description: string, retryAfter?: string | null): BearerError {
  return new BearerError(503, 'temporarily_unavailable', description, { 'cache-control': 'no-store', ...(retryAfter ? { 'retry-after': retryAfter } : {}) });
}

export function misconfigured(description: string): BearerError {
  return new BearerError(500, 'server_error', description, { 'cache-control': 'no-store' });
}

export interface JsonRequest {
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  /** A form, already encoded. */
  body?: string;
}

/**
 * One request with node:http(s), on Node's default agents (keep-alive): an introspection costs a
 * quarter of the CPU it costs through fetch, and a busy resource server makes hundreds a second.
 * Redirects are not followed. Rejects on a connection failure or when no answer came within `timeoutMs`.
 */
function send(url: string, request: JsonRequest, timeoutMs: number): Promise<{ status: number; retryAfter: string | undefined; text: string }> {
  const { request: open } = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const headers = request.body === undefined ? request.headers : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
    const outgoing = open(url, { method: request.method ?? 'GET', headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        clearTimeout(timer);
        const retryAfter = response.headers['retry-after'];
        resolve({ status: response.statusCode ?? 0, retryAfter, text });
      });
      response.on('error', fail);
    });
    const timer = setTimeout(() => outgoing.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { timedOut: true })), timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    outgoing.on('error', fail);
    outgoing.end(request.body);
  });
}

/** The JSON object an authorization server endpoint answers with; BearerError (503 or 500) otherwise. */
export async function requestJson(url: string, request: JsonRequest, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
  let response: Awaited<ReturnType<typeof send>>;
  try {
    response = await send(url, request, timeoutMs);
  } catch (error) {
    const reason = error instanceof Error && 'timedOut' in error ? `no answer within ${timeoutMs} ms` : 'the connection failed';
    throw unavailable(`the authorization server cannot be reached (${what}: ${reason})`);
  }
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    body = undefined;
  }
  if (response.status >= 500 || response.status === 429) {
    throw unavailable(`the authorization server is unavailable (${what}: HTTP ${response.status})`, response.retryAfter);
  }
  const error = typeof body === 'object' && body !== null && 'error' in body ? ` ${String(body.error)}` : '';
  if (response.status !== 200) throw misconfigured(`the authorization server refused this resource server (${what}: HTTP ${response.status}${error})`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw misconfigured(`the authorization server answered ${what} with something other than a JSON object`);
  return body as Record<string, unknown>;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined for Basic. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
}

/** RFC 8414 §3 and RFC 9728 §3.1: the well-known segment goes between the host and the path. */
export function wellKnownUrl(url: string, name: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}/.well-known/${name}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}
