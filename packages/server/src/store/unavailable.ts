/**
 * A dependency that cannot serve right now: the database is unreachable, restarting, failing over,
 * out of disk, locked by another process, or did not answer in time. Such an error says nothing
 * about the request, so it must never become a refusal (`invalid_grant` or `invalid_client` make a
 * client throw away good credentials) nor a 500: the HTTP layer answers `503
 * temporarily_unavailable` with `Retry-After`, and the client tries again.
 *
 * The database layer raises it (src/store/database.ts for SQLite, src/store/postgres-pool.ts for
 * PostgreSQL), so everything above sees one error type whatever the driver said.
 */
import type { Availability } from '../ops/availability.js';

export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: 'database',
    /** A short code for logs and probes: `ECONNREFUSED`, `57P01`, `SQLITE_BUSY`, `timeout`… never a query or a value. */
    readonly reason: string,
  ) {
    super(`${dependency} unavailable (${reason})`);
  }
}

/** What a client is told to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * SQLite result codes (better-sqlite3 names them `SQLITE_<PRIMARY>[_<EXTENDED>]`) that mean the
 * database cannot be used now rather than that the statement is wrong: another connection holds
 * the lock past the busy timeout, the disk is full or failing, the file turned read-only or
 * vanished, memory ran out.
 */
const SQLITE_UNAVAILABLE = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_NOMEM', 'SQLITE_PROTOCOL'];

/**
 * PostgreSQL SQLSTATEs of the same kind: class 08 (connection exception), 53 (insufficient
 * resources: too many connections, disk full, out of memory), 58 (system error: I/O), the server
 * shutting down or starting (57P01-57P03), a statement cancelled by statement_timeout (57014), and
 * a write sent to a read-only server (25006, what a failover to a replica looks like).
 */
const POSTGRES_UNAVAILABLE_CLASSES = ['08', '53', '58'];
const POSTGRES_UNAVAILABLE_CODES = ['57P01', '57P02', '57P03', '57014', '25006'];

/** Socket errors from reaching a server: refused, reset, timed out, no route, no name. */
const NETWORK_UNAVAILABLE = ['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'];

/** The reason to report when `error` means the database cannot serve now; undefined for any other error. */
export function unavailabilityReason(error: unknown): string | undefined {
  if (error instanceof DependencyUnavailableError) return error.reason;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (SQLITE_UNAVAILABLE.some((prefix) => code === prefix || code.startsWith(`${prefix}_`))) return code;
  if (/^[0-9A-Z]{5}$/.test(code) && (POSTGRES_UNAVAILABLE_CLASSES.includes(code.slice(0, 2)) || POSTGRES_UNAVAILABLE_CODES.includes(code))) return code;
  if (NETWORK_UNAVAILABLE.includes(code)) return code;
  return undefined;
}

/** `error` as a `DependencyUnavailableError` (and the database marked down) when it is one; otherwise unchanged. */
export function asUnavailable(error: unknown, availability: Availability): unknown {
  const reason = unavailabilityReason(error);
  if (reason === undefined) return error;
  availability.down(reason);
  return error instanceof DependencyUnavailableError ? error : new DependencyUnavailableError('database', reason);
}
