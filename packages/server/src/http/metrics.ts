/**
 * Prometheus over HTTP: every answered request is counted and timed by its route pattern
 * (`/api/projects/:id`, never the URL with its ids, tokens or query), and the registry is served in
 * the text exposition format on a listener of its own, so it is never reachable beside the public
 * endpoints. Both exist only with TESSERA_METRICS_PORT.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../ops/metrics.js';

/** The label of requests no route matched: their paths are whatever a client sent. */
const UNMATCHED = 'unmatched';

export function instrumentRequests(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED;
    metrics.httpRequests.inc({ route, method: request.method, status: reply.statusCode });
    metrics.httpDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    done();
  });
}

export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

/** `GET /metrics` on `host:port` (port 0: any free port); the process metrics start being collected now. */
export async function startMetricsListener(metrics: Metrics, host: string, port: number): Promise<MetricsListener> {
  metrics.collectProcessMetrics();
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are served at /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n'),
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
