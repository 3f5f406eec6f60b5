/**
 * The PostgreSQL connection pool, made to survive the server going away. Every way pg reports a
 * lost server (an idle or checked-out connection's 'error' event, a reset socket, an admin
 * shutdown, a failover, no connection within the timeout, a statement that does not come back)
 * ends as a `DependencyUnavailableError` on the query that met it, or as a log line when no query
 * did; none reaches the process as an unhandled 'error' event. A broken connection is dropped from
 * the pool, and once the server is back the next checkout connects anew: no restart is needed.
 *
 * Each wait is bounded: for a connection (a free one in the pool, or a new one), and for a
 * statement (PostgreSQL's statement_timeout cancels it on the server; a timer here gives up on a
 * server that stopped answering altogether, and the connection is dropped).
 */
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { Availability } from '../ops/availability.js';
import { asUnavailable, DependencyUnavailableError, unavailabilityReason } from './unavailable.js';

export interface PostgresPoolOptions {
  poolSize: number;
  /** The longest wait for a connection; 0: none. */
  connectTimeoutMs: number;
  /** The longest a statement may run; 0: none (migrations may run longer than a request may wait). */
  statementTimeoutMs: number;
  /** PostgreSQL schema to use instead of the default search path. */
  schema?: string | undefined;
}

/** How much longer than statement_timeout the timer here waits, so the server's own cancel normally comes first. */
const STATEMENT_GRACE_MS = 200;

export interface ObservedPool extends PostgresPool {
  /** Connections checked out, and requests waiting for one. */
  usage(): { inUse: number; waiting: number };
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function openPostgresPool(url: string, options: PostgresPoolOptions, availability: Availability): ObservedPool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    ...(options.connectTimeoutMs ? { connectionTimeoutMillis: options.connectTimeoutMs } : {}),
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    // A server that vanished without closing its sockets is noticed by the OS within a minute or so.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  /** Connections whose socket failed: never handed out again. */
  const broken = new WeakSet<pg.PoolClient>();
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();

  // An idle connection that fails (the server restarted) is removed by the pool, which then emits
  // 'error' on itself; without a listener that error would end the process.
  pool.on('error', (error) => availability.down(unavailabilityReason(error) ?? 'connection lost'));
  // A checked-out connection has no listener of the pool's: this one keeps its failure from ending the process.
  pool.on('connect', (client) => {
    const markBroken = () => broken.add(client);
    client.on('error', markBroken);
    client.on('end', markBroken);
  });

  /** A failed query's error; on a connection that broke, whatever pg said, the database is unavailable. */
  const unavailable = (client: pg.PoolClient, error: unknown): unknown => {
    const known = asUnavailable(error, availability);
    if (known instanceof DependencyUnavailableError) {
      broken.add(client);
      return known;
    }
    return broken.has(client) ? asUnavailable(new DependencyUnavailableError('database', 'connection lost'), availability) : error;
  };

  function wrap(client: pg.PoolClient): PostgresPoolClient {
    let wrapper = wrappers.get(client);
    if (wrapper) return wrapper;
    wrapper = {
      query: ((sql: string, parameters: ReadonlyArray<unknown>) => {
        const pending = client.query(sql, parameters as unknown[]);
        return new Promise((resolve, reject) => {
          const timer = options.statementTimeoutMs
            ? setTimeout(() => reject(unavailable(client, new DependencyUnavailableError('database', 'statement timeout'))), options.statementTimeoutMs + STATEMENT_GRACE_MS)
            : undefined;
          pending.then(
            (result) => {
              clearTimeout(timer);
              availability.up();
              resolve(result as never);
            },
            (error: unknown) => {
              clearTimeout(timer);
              reject(unavailable(client, error));
            },
          );
        });
      }) as PostgresPoolClient['query'],
      // A broken connection goes back with an error, so the pool closes it instead of reusing it.
      release: () => client.release(broken.has(client) ? new Error('connection broken') : undefined),
    };
    wrappers.set(client, wrapper);
    return wrapper;
  }

  return {
    async connect() {
      // Every connection is busy: waiting past the timeout is overload, not an outage.
      const queued = pool.totalCount >= options.poolSize && pool.idleCount === 0;
      try {
        return wrap(await pool.connect());
      } catch (error) {
        const known = unavailabilityReason(error);
        if (queued && known === undefined) throw new DependencyUnavailableError('database', 'no free connection');
        // Whatever kept a connection from opening (refused, timed out, starting up, a password refused), the database cannot serve.
        const reason = known ?? sqlState(error) ?? 'cannot connect';
        availability.down(reason);
        throw new DependencyUnavailableError('database', reason);
      }
    },
    end: () => pool.end(),
    usage: () => ({ inUse: pool.totalCount - pool.idleCount, waiting: pool.waitingCount }),
  };
}
