/** A client's redirect URI on loopback that records every callback it receives. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CallbackServer {
  redirectUri: string;
  /** Resolves with the next callback URL the browser lands on. */
  next(): Promise<URL>;
  close(): Promise<void>;
}

export async function startCallbackServer(): Promise<CallbackServer> {
  const waiting: Array<(url: URL) => void> = [];
  const received: URL[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url!, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    // Browsers also ask for /favicon.ico; only the redirect URI itself is a callback.
    if (url.pathname !== '/callback') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/html' }).end('<p>Signed in. You can close this window.</p>');
    const resolve = waiting.shift();
    if (resolve) resolve(url);
    else received.push(url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    next: () => (received.length ? Promise.resolve(received.shift()!) : new Promise((resolve) => waiting.push(resolve))),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
