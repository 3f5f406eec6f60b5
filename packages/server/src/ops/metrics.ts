/**
 * Prometheus metrics (prom-client), one registry per runtime. Protocol code records what happened
 * after its transaction has committed (never inside it: a transaction may run twice); the HTTP
 * layer records requests; gauges are read when Prometheus scrapes. They are served on a listener
 * of their own (TESSERA_METRICS_PORT, src/http/metrics-listener.ts), with the default Node process
 * metrics; without it nothing reads them and HTTP requests are not timed.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RateLimitedEndpoint } from '../config.js';

/** Why token families or access tokens were revoked; a fixed set, so the label stays small. */
export type RevocationReason = 'client_request' | 'refresh_token_reuse' | 'authorization_code_replay' | 'device_code_replay' | 'user' | 'app_deleted' | 'secret_scanning';
export type CimdFetchOutcome = 'fetched' | 'invalid_document' | 'fetch_failed';
/** Which counter refused: per IP address, per client id, or the limit on all requesters together. */
export type RateLimitKey = 'ip' | 'client' | 'all';

export interface DependencyGauges {
  databaseUp(): boolean;
  /** PostgreSQL only. */
  pool?: () => { inUse: number; waiting: number };
  /** Only with REDIS_URL. */
  redisUp?: () => boolean;
}

/** Seconds; from a fast introspection to a slow page, and the 1.5 s database timeout. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  readonly registry = new Registry();
  private readonly registers = [this.registry];

  readonly httpRequests = new Counter({
    name: 'tessera_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: this.registers,
  });
  readonly httpDuration = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being sent, by route pattern and method',
    labelNames: ['route', 'method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: this.registers,
  });
  private readonly tokens = new Counter({
    name: 'tessera_tokens_issued_total',
    help: 'Successful token endpoint responses, by grant type (a refresh retried within the grace window counts again)',
    labelNames: ['grant_type'] as const,
    registers: this.registers,
  });
  private readonly reuse = new Counter({
    name: 'tessera_refresh_token_reuse_detected_total',
    help: 'Rotated refresh tokens presented again after the grace window',
    registers: this.registers,
  });
  private readonly revocations = new Counter({
    name: 'tessera_token_revocations_total',
    help: 'Token families (or single access tokens) revoked, by reason',
    labelNames: ['reason'] as const,
    registers: this.registers,
  });
  private readonly refusals = new Counter({
    name: 'tessera_rate_limited_total',
    help: 'Requests refused with 429, by endpoint and by the counter that refused (ip, client, all)',
    labelNames: ['endpoint', 'key'] as const,
    registers: this.registers,
  });
  private readonly cimdFetches = new Counter({
    name: 'tessera_cimd_fetches_total',
    help: 'Client ID Metadata Document fetches, by outcome',
    labelNames: ['outcome'] as const,
    registers: this.registers,
  });

  tokenIssued(grantType: string): void {
    this.tokens.inc({ grant_type: grantType });
  }

  refreshTokenReuseDetected(): void {
    this.reuse.inc();
  }

  revoked(reason: RevocationReason, count = 1): void {
    if (count > 0) this.revocations.inc({ reason }, count);
  }

  rateLimited(endpoint: RateLimitedEndpoint, key: RateLimitKey): void {
    this.refusals.inc({ endpoint, key });
  }

  cimdFetched(outcome: CimdFetchOutcome): void {
    this.cimdFetches.inc({ outcome });
  }

  /** Gauges read at each scrape: whether the database and Redis answer, and the connection pool. */
  watchDependencies(gauges: DependencyGauges): void {
    const registers = this.registers;
    new Gauge({
      name: 'tessera_database_up',
      help: 'Whether the database answered the last statement (1) or not (0)',
      registers,
      collect() {
        this.set(gauges.databaseUp() ? 1 : 0);
      },
    });
    const { pool, redisUp } = gauges;
    if (pool) {
      new Gauge({
        name: 'tessera_db_pool_connections_in_use',
        help: 'PostgreSQL connections checked out of the pool',
        registers,
        collect() {
          this.set(pool().inUse);
        },
      });
      new Gauge({
        name: 'tessera_db_pool_waiting_requests',
        help: 'Requests waiting for a PostgreSQL connection from the pool',
        registers,
        collect() {
          this.set(pool().waiting);
        },
      });
    }
    if (redisUp) {
      new Gauge({
        name: 'tessera_redis_up',
        help: 'Whether Redis is connected (1) or not (0)',
        registers,
        collect() {
          this.set(redisUp() ? 1 : 0);
        },
      });
    }
  }

  /** The default Node process metrics (CPU, memory, event loop lag, handles), once something reads them. */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }
}
