/** Test servers on loopback: listening on a free port, and closing with their kept-alive connections. */
import type { Server } from 'node:http';

/** Listens on a free 127.0.0.1 port; the port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** Closes the server, kept-alive connections included (a client's agent would hold it open). */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
