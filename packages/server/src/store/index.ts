/**
 * The store: the only place SQL lives. Everything above it asks a repository (one per aggregate:
 * tokens, authorizations, clients, accounts, ...) for what it needs, inside or outside a
 * transaction, and never sees Kysely. The same repository code runs on SQLite and PostgreSQL.
 *
 *   const outcome = await ctx.store.transaction(async (tx) => {
 *     const code = await tx.tokens.findCode(hash);
 *     if (!code) return refuse(new OAuthError('invalid_grant', '...'));
 *     ...
 *   });
 *
 * The transaction contract (transactions.ts): on SQLite the transactions of one event-loop turn
 * share a commit, and when one of them throws each is run again on its own. So work may run twice
 * and must have no effect outside the database; an effect that must follow the commit (a metric)
 * is registered with `tx.afterCommit`, and a request that is refused after writing something that
 * must stay (a replayed code revokes its tokens) returns `refuse(error)` instead of throwing: the
 * writes commit, and the caller then gets the error.
 */
import type { Kysely, MigrationResultSet } from 'kysely';
import { checkDatabase, migrateToLatest, openDatabase, type DatabaseCheck, type Db, type Dialect, type OpenOptions } from './database.js';
import type { Database } from './schema.js';
import { AccountRepository } from './repositories/accounts.js';
import { AnalyticsRepository } from './repositories/analytics.js';
import { ApiKeyRepository } from './repositories/api-keys.js';
import { AuditRepository } from './repositories/audit.js';
import { AuthorizationRepository } from './repositories/authorizations.js';
import { CimdRepository } from './repositories/cimd.js';
import { DeviceAuthorizationRepository } from './repositories/device-authorizations.js';
import { ClientRepository } from './repositories/clients.js';
import { OrganizationRepository } from './repositories/organizations.js';
import { OutboxRepository } from './repositories/outbox.js';
import { purgeExpired, type PurgeCounts } from './repositories/purge.js';
import { ResourceServerRepository } from './repositories/resource-servers.js';
import { SigningKeyRepository } from './repositories/signing-keys.js';
import { TokenRepository } from './repositories/tokens.js';
import { TwoFactorRepository } from './repositories/two-factor.js';

export type { DatabaseCheck, Dialect, OpenOptions, PurgeCounts };
export type { AppRow } from './repositories/clients.js';
export type { DeviceDecision } from './repositories/device-authorizations.js';
export { DAY_MS } from './repositories/analytics.js';

/** A refusal decided inside a transaction whose writes must still commit (see the contract above). */
export class Refusal {
  constructor(readonly error: Error) {}
}

export function refuse(error: Error): Refusal {
  return new Refusal(error);
}

/** Every repository, bound to the database or to one transaction. Each is made on first use. */
export class Repositories {
  #tokens?: TokenRepository;
  #authorizations?: AuthorizationRepository;
  #clients?: ClientRepository;
  #cimd?: CimdRepository;
  #signingKeys?: SigningKeyRepository;
  #accounts?: AccountRepository;
  #twoFactor?: TwoFactorRepository;
  #organizations?: OrganizationRepository;
  #apiKeys?: ApiKeyRepository;
  #audit?: AuditRepository;
  #outbox?: OutboxRepository;
  #analytics?: AnalyticsRepository;
  #resourceServers?: ResourceServerRepository;
  #deviceAuthorizations?: DeviceAuthorizationRepository;

  constructor(protected readonly db: Kysely<Database>) {}

  /** Token families, access and refresh tokens, authorization codes. */
  get tokens() {
    return (this.#tokens ??= new TokenRepository(this.db));
  }
  /** What users allowed each client: scopes and organization/project narrowing. */
  get authorizations() {
    return (this.#authorizations ??= new AuthorizationRepository(this.db));
  }
  /** Registered clients: CLI-made, developer apps and dynamic registrations, with app logos. */
  get clients() {
    return (this.#clients ??= new ClientRepository(this.db));
  }
  /** Client ID Metadata Documents: the document cache and the blocklist. */
  get cimd() {
    return (this.#cimd ??= new CimdRepository(this.db));
  }
  get signingKeys() {
    return (this.#signingKeys ??= new SigningKeyRepository(this.db));
  }
  /** Users, sessions, and the one-time links of sign-up, email verification and password reset. */
  get accounts() {
    return (this.#accounts ??= new AccountRepository(this.db));
  }
  /** TOTP enrolments, recovery codes and sign-ins waiting for their second factor. */
  get twoFactor() {
    return (this.#twoFactor ??= new TwoFactorRepository(this.db));
  }
  /** Organizations, their members and projects. */
  get organizations() {
    return (this.#organizations ??= new OrganizationRepository(this.db));
  }
  get apiKeys() {
    return (this.#apiKeys ??= new ApiKeyRepository(this.db));
  }
  get audit() {
    return (this.#audit ??= new AuditRepository(this.db));
  }
  get outbox() {
    return (this.#outbox ??= new OutboxRepository(this.db));
  }
  /** The reference platform API's data: events, event definitions, annotations. */
  get analytics() {
    return (this.#analytics ??= new AnalyticsRepository(this.db));
  }
  /** Registered resource servers: their URIs, introspection credentials and token formats. */
  get resourceServers() {
    return (this.#resourceServers ??= new ResourceServerRepository(this.db));
  }

  /** Device authorization requests (RFC 8628) and the users' decisions on them. */
  get deviceAuthorizations() {
    return (this.#deviceAuthorizations ??= new DeviceAuthorizationRepository(this.db));
  }
}

/** The repositories of one transaction, and the effects to run once it has committed. */
export class Transaction extends Repositories {
  readonly #effects: Array<() => void> = [];

  /** Runs `effect` once this transaction's writes are committed; never if they are rolled back. */
  afterCommit(effect: () => void): void {
    this.#effects.push(effect);
  }

  /** @internal */
  runEffects(): void {
    for (const effect of this.#effects) effect();
  }
}

export type TransactionWork<T> = (tx: Transaction) => Promise<T | Refusal>;

export interface Store extends Repositories {
  readonly dialect: Dialect;
  /** Whether the database answered, as last seen (ops/availability.ts). */
  readonly availability: Db['availability'];
  /** PostgreSQL only: connections checked out, and requests waiting for one. */
  readonly poolUsage: Db['poolUsage'];
  /** Multi-step writes, under the contract above. A returned `Refusal` is thrown once the writes have committed. */
  transaction<T>(work: TransactionWork<T>): Promise<T>;
  /** Reads on hot paths; on SQLite the reads of one turn share a read transaction. */
  reads<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  /** Deletes what has expired, in small batches (repositories/purge.ts). */
  purgeExpired(now: number, options?: { batchSize?: number; stop?: AbortSignal }): Promise<PurgeCounts>;
  migrate(): Promise<MigrationResultSet>;
  /** Whether the database answers within `deadlineMs`, and whether every migration is applied. */
  check(deadlineMs: number): Promise<DatabaseCheck>;
  close(): Promise<void>;
}

class OpenStore extends Repositories implements Store {
  readonly dialect: Dialect;
  readonly availability: Db['availability'];
  readonly poolUsage: Db['poolUsage'];

  constructor(
    private readonly database: Db,
    /** A connection for migrations, which may run longer than a request may wait on a statement. */
    private readonly openForMigrations: () => Db,
  ) {
    super(database.kysely);
    this.dialect = database.dialect;
    this.availability = database.availability;
    this.poolUsage = database.poolUsage;
  }

  async transaction<T>(work: TransactionWork<T>): Promise<T> {
    let committed: Transaction | undefined;
    const result = await this.database.transaction(async (trx) => {
      // A fresh Transaction per attempt: effects of an attempt that was rolled back are dropped with it.
      committed = new Transaction(trx);
      return work(committed);
    });
    committed?.runEffects();
    if (result instanceof Refusal) throw result.error;
    return result;
  }

  reads<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    return this.database.reads((trx) => work(trx === this.db ? this : new Repositories(trx)));
  }

  purgeExpired(now: number, options: { batchSize?: number; stop?: AbortSignal } = {}): Promise<PurgeCounts> {
    return purgeExpired(this.db, now, options);
  }

  async migrate(): Promise<MigrationResultSet> {
    if (this.dialect === 'sqlite') return migrateToLatest(this.database);
    const migrating = this.openForMigrations();
    try {
      return await migrateToLatest(migrating);
    } finally {
      await migrating.close();
    }
  }

  check(deadlineMs: number): Promise<DatabaseCheck> {
    return checkDatabase(this.database, deadlineMs);
  }

  close(): Promise<void> {
    return this.database.close();
  }

  /** @internal For tests and the migration test only: the Kysely instance under the repositories. */
  get kysely(): Kysely<Database> {
    return this.db;
  }
}

/** Opens the database named by a DATABASE_URL (`sqlite:<path>` or `postgres://…`). */
export function openStore(url: string, options: OpenOptions = {}): OpenedStore {
  // On PostgreSQL, migrations run on a connection of their own without the statement timeout (the wait for it stays bounded).
  return new OpenStore(openDatabase(url, options), () => openDatabase(url, { ...options, log: undefined, poolSize: 1, statementsUnbounded: true }));
}

/** A store as its opener holds it: tests and the migration test also reach the Kysely instance under it. */
export type OpenedStore = Store & { readonly kysely: Kysely<Database> };
