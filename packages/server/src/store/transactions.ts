/**
 * How protocol code runs a transaction. On PostgreSQL it is a plain transaction (the server does
 * its own group commit across connections). SQLite has a single writer, and its commit (appending
 * the changed pages to the WAL) costs more than all the statements of a token rotation; so the
 * transactions that arrive in the same turn of the event loop run one after another inside one
 * database transaction and share its commit. No caller hears back before the commit that holds
 * its writes. If any of them throws, the shared transaction is rolled back and each is run again
 * on its own, so one failure never undoes or fails another: the outcome is that of running them
 * one by one. Work may therefore run twice, and must have no effect outside the database. (The token
 * grants return their refusals as values instead of throwing, so a bad request does not cost the
 * requests beside it their shared commit.) A group that failed because the database cannot be used
 * (`DependencyUnavailableError`: locked, full, unreachable) is not run again member by member: each
 * would wait out the same timeout in turn, so all of them fail at once instead.
 *
 * Reads on hot paths (introspection, token checks) are grouped the same way (`groupedReads`). On
 * SQLite each statement outside a transaction takes and drops the database's locks, three system
 * calls that cost more than the lookup itself; a group's read transaction takes them once. On
 * PostgreSQL a read is a statement on its own.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { DependencyUnavailableError } from './unavailable.js';

export type TransactionRunner = <T>(work: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;

export function plainTransactions(db: Kysely<Database>): TransactionRunner {
  return (work) => db.transaction().execute(work);
}

/** Runs reads straight on the database, each statement on its own. */
export function plainReads(db: Kysely<Database>): TransactionRunner {
  return (work) => work(db);
}

interface Pending {
  work: (trx: Kysely<Database>) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type RunOne = (member: Pending) => Promise<void>;

/** Collects the work of one event-loop turn and hands it to `runGroup` at the end of the turn. */
function byTurn(runGroup: (group: Pending[]) => Promise<void>): TransactionRunner {
  let queue: Pending[] = [];
  return <T>(work: (trx: Kysely<Database>) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      // The first piece of work of a turn schedules the group; the rest of the turn's join it.
      if (queue.length === 0) {
        setImmediate(() => {
          const group = queue;
          queue = [];
          void runGroup(group);
        });
      }
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
}

/** Runs a group in one transaction; a group of one, or every member of a group that threw, by `runAlone`. */
function inOneTransaction(db: Kysely<Database>, runAlone: RunOne) {
  return async (group: Pending[]): Promise<void> => {
    if (group.length === 1) return runAlone(group[0]!);
    let values: unknown[];
    try {
      values = await db.transaction().execute(async (trx) => {
        const results: unknown[] = [];
        for (const member of group) results.push(await member.work(trx));
        return results;
      });
    } catch (error) {
      if (error instanceof DependencyUnavailableError) {
        for (const member of group) member.reject(error);
        return;
      }
      for (const member of group) await runAlone(member);
      return;
    }
    group.forEach((member, index) => member.resolve(values[index]));
  };
}

export function groupCommit(db: Kysely<Database>): TransactionRunner {
  return byTurn(inOneTransaction(db, (member) => db.transaction().execute(member.work).then(member.resolve, member.reject)));
}

/** Reads of one turn share a read transaction; a lone read runs as it is. */
export function groupedReads(db: Kysely<Database>): TransactionRunner {
  return byTurn(inOneTransaction(db, (member) => member.work(db).then(member.resolve, member.reject)));
}
