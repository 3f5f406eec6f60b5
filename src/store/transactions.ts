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
 * requests beside it their shared commit.)
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export type TransactionRunner = <T>(work: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;

export function plainTransactions(db: Kysely<Database>): TransactionRunner {
  return (work) => db.transaction().execute(work);
}

interface Pending {
  work: (trx: Kysely<Database>) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export function groupCommit(db: Kysely<Database>): TransactionRunner {
  let queue: Pending[] = [];

  const runAlone = (member: Pending) => db.transaction().execute(member.work).then(member.resolve, member.reject);

  async function runGroup(group: Pending[]): Promise<void> {
    if (group.length === 1) return runAlone(group[0]!);
    let values: unknown[];
    try {
      values = await db.transaction().execute(async (trx) => {
        const results: unknown[] = [];
        for (const member of group) results.push(await member.work(trx));
        return results;
      });
    } catch {
      for (const member of group) await runAlone(member);
      return;
    }
    group.forEach((member, index) => member.resolve(values[index]));
  }

  return <T>(work: (trx: Kysely<Database>) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      // The first transaction of a turn schedules the group; the rest of the turn's join it.
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
