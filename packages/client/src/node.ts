/**
 * Sign-in from a command line on a machine with a browser (RFC 8252 §7.3): a one-time listener on
 * an ephemeral 127.0.0.1 port receives the redirect. Node only (it needs node:http), hence its own
 * entry point, `@tessera/client/node`, so the main one stays browser-safe.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthorizationParams } from './authorization.js';
import type { TesseraClient } from './client.js';
import { SignInTimeoutError, TesseraError } from './errors.js';
import type { StoredTokens } from './token-store.js';

/** Long enough to sign in and consent; after it the listener is closed. */
export const BROWSER_SIGN_IN_TIMEOUT_MS = 5 * 60_000;

export interface BrowserSignInOptions {
  /** Space-separated scopes, e.g. `openid user:read project:read`. */
  scope: string;
  /** Opens the authorization URL in the user's browser (e.g. with the `open` package, or by printing it). */
  open(url: string): void | Promise<void>;
  /** More authorization parameters (`prompt`, `required_access_level`, `resource`, …). */
  params?: Omit<AuthorizationParams, 'scope'>;
  /**
   * The registered loopback redirect URI (`http://127.0.0.1/<path>` or `http://[::1]/<path>`); the
   * port is chosen now. Defaults to the client's redirectUri, else `http://127.0.0.1/callback`.
   */
  redirectUri?: string;
  /** Defaults to BROWSER_SIGN_IN_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Stops waiting; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

const page = (title: string, message: string) =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><p>${message}</p></html>`;

function loopbackRedirect(value: string): URL {
  const url = new URL(value);
  // §8.3: an IP literal, not "localhost", which a resolver or firewall may send elsewhere.
  if (url.protocol !== 'http:' || (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]') || url.search || url.hash) {
    throw new TypeError(`signInWithBrowser needs a loopback redirect URI such as http://127.0.0.1/callback, not ${value}`);
  }
  return url;
}

/** Listens on an ephemeral port of the redirect URI's address and resolves with the redirect URI it now has. */
async function listen(server: ReturnType<typeof createServer>, redirect: URL): Promise<string> {
  const host = redirect.hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = new URL(redirect);
  bound.port = String((server.address() as AddressInfo).port);
  return bound.href;
}

/**
 * Opens the authorization URL with `open`, waits for the redirect to the loopback listener, answers
 * the browser with a page saying the tab may be closed, and completes the sign-in (state, iss,
 * code exchange, ID token) as handleCallback does. Requests to the listener that do not carry this
 * sign-in's state are answered 404 and ignored. Rejects with SignInTimeoutError after the time
 * limit; the listener is closed in every case.
 */
export async function signInWithBrowser(client: TesseraClient, options: BrowserSignInOptions): Promise<StoredTokens> {
  const redirect = loopbackRedirect(options.redirectUri ?? client.redirectUri ?? 'http://127.0.0.1/callback');
  const timeoutMs = options.timeoutMs ?? BROWSER_SIGN_IN_TIMEOUT_MS;
  options.signal?.throwIfAborted();

  let onCallback: (url: URL, response: ServerResponse) => void = (_url, response) => void response.writeHead(404).end();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    response.setHeader('connection', 'close');
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? redirect.host}`);
    if (request.method !== 'GET' || url.pathname !== redirect.pathname) return void response.writeHead(404).end();
    onCallback(url, response);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const redirectUri = await listen(server, redirect);
    const request = await client.authorizationUrl({ ...options.params, scope: options.scope }, { redirectUri });
    const callback = new Promise<StoredTokens>((resolve, reject) => {
      const limit = timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`;
      timer = setTimeout(() => reject(new SignInTimeoutError(`no sign-in came back to ${redirectUri} within ${limit}; the listener is closed`)), timeoutMs);
      onAbort = () => reject(options.signal!.reason);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      onCallback = (url, response) => {
        // Anything else reaching the port (another page, a stale tab) must not end this sign-in.
        if (url.searchParams.get('state') !== request.state) return void response.writeHead(404).end();
        onCallback = (_url, late) => void late.writeHead(404).end();
        // Settled once the page has been sent, so closing the listener cannot cut it off.
        client.handleCallback(url, request).then(
          (tokens) => respond(response, 200, page('Signed in', 'You are signed in. You can close this tab and return to the application.'), () => resolve(tokens)),
          (error: unknown) => {
            const code = error instanceof TesseraError && /^[a-z_]+$/.test(error.code) ? ` (${error.code})` : '';
            respond(response, 400, page('Sign-in failed', `The sign-in did not complete${code}. You can close this tab and return to the application.`), () => reject(error));
          },
        );
      };
    });
    // The time limit holds even while `open` has not returned; a failure to open ends the sign-in.
    const opened = Promise.resolve().then(() => options.open(request.url));
    return await Promise.race([opened.then(() => callback), callback]);
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    server.close();
    server.closeAllConnections();
  }
}

function respond(response: ServerResponse, status: number, html: string, sent: () => void): void {
  response.once('close', sent);
  response
    .writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // The callback URL carries the code: no referrer, no scripts, nothing loaded.
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'",
    })
    .end(html);
}
