/**
 * GET /healthz (liveness: the process serves) and GET /readyz (readiness: it can do its work, and
 * if not, why). Orchestrators and load balancers poll them every few seconds, so they write no
 * log line per call, are never rate-limited and need no session.
 */
import type { FastifyInstance } from 'fastify';
import type { Health } from '../../ops/health.js';

const QUIET = { logLevel: 'warn' } as const;

export async function probeRoutes(app: FastifyInstance, health: Health): Promise<void> {
  app.get('/healthz', QUIET, async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.get('/readyz', QUIET, async (_request, reply) => {
    const readiness = await health.readiness();
    return reply.status(readiness.ready ? 200 : 503).header('cache-control', 'no-store').send(readiness);
  });
}
