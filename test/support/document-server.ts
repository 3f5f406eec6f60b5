/**
 * The HTTPS server CIMD client ids point at, on loopback with a self-signed certificate that
 * Tessera trusts through TESSERA_CIMD_CA_FILE. Each path answers as a test says; requests are counted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServer, listenOnLoopback } from './loopback.js';
import { generate } from 'selfsigned';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export class DocumentServer {
  readonly routes = new Map<string, Handler>();
  readonly hits = new Map<string, number>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'tessera-documents-'));
  /** The certificate to trust: pass as TESSERA_CIMD_CA_FILE. */
  readonly caFile = join(this.dir, 'ca.pem');
  private server!: Server;
  port!: number;

  /** `defaults` are merged into every served document. */
  constructor(private readonly defaults: Record<string, unknown> = {}) {}

  async start(): Promise<void> {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
    });
    writeFileSync(this.caFile, pems.cert);
    this.server = createServer({ key: pems.private, cert: pems.cert }, (request, response) => {
      const path = request.url ?? '';
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      const handler = this.routes.get(path);
      if (handler) handler(request, response);
      else response.writeHead(404).end();
    });
    this.port = await listenOnLoopback(this.server);
  }

  url(path: string): string {
    return `https://localhost:${this.port}${path}`;
  }

  /** Serves a document whose client_id is its own URL (plus the defaults and overrides); returns that URL. */
  serve(path: string, overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}): string {
    const clientId = this.url(path);
    const document = { client_id: clientId, ...this.defaults, ...overrides };
    this.routes.set(path, (_request, response) => response.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(document)));
    return clientId;
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  close(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    return closeServer(this.server);
  }
}
