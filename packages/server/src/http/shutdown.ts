/**
 * Graceful shutdown on SIGTERM or SIGINT, for `tessera start` and `tessera front`: the listener
 * stops accepting connections and `/readyz` answers 503 at once; requests in flight (and any group
 * commit they wait on) get their answers for up to the shutdown timeout, after which their
 * connections are closed; then the app's onClose hooks close the database and Redis, and the
 * process exits 0 (1 when the timeout had to cut requests off). A second signal cuts off at once.
 */
import type { FastifyInstance } from 'fastify';

/** After the drain, closing the database and Redis gets this long before the process exits regardless. */
const CLOSE_GRACE_MS = 5000;

export function closeOnSignals(app: FastifyInstance, timeoutSeconds: number): void {
  let forced = false;
  let shuttingDown = false;
  const cutOff = (reason: string) => {
    if (forced) return;
    forced = true;
    app.log.warn({ reason }, 'closing the connections of requests still in flight');
    app.server.closeAllConnections();
    setTimeout(() => {
      app.log.error('the database and Redis did not close in time; exiting');
      process.exit(1);
    }, CLOSE_GRACE_MS).unref();
  };
  const shutDown = (signal: NodeJS.Signals) => {
    if (shuttingDown) return cutOff(`second ${signal}`);
    shuttingDown = true;
    app.log.info({ signal, timeoutSeconds }, 'shutting down: no new connections; finishing the requests in flight');
    const timer = setTimeout(() => cutOff(`still running after TESSERA_SHUTDOWN_TIMEOUT (${timeoutSeconds} s)`), timeoutSeconds * 1000);
    app.close().then(
      () => {
        clearTimeout(timer);
        app.log.info('shut down');
        process.exit(forced ? 1 : 0);
      },
      (error: Error) => {
        app.log.error({ err: { message: error.message } }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutDown);
  process.on('SIGINT', shutDown);
}
