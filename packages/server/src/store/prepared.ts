/**
 * Queries built once and run many times. Building a query with Kysely and compiling it to SQL
 * takes several times longer than SQLite takes to run it, and the token endpoints run the same
 * handful of statements on every request. A prepared query is built with placeholder parameters,
 * compiled once per database (so each dialect still gets its own SQL from the same builder code),
 * and then executed with the caller's values in the placeholders' places.
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { Database } from './schema.js';

/** A value no caller passes: it marks where a named parameter lands among the compiled parameters. */
const PLACEHOLDER = '\u0000tessera-parameter:';

interface Plan<P> {
  sql: string;
  /** For each compiled parameter, how to read its value from the call's parameters. */
  values: Array<(params: P) => unknown>;
}

export type PreparedQuery<P, R> = (db: Kysely<Database>, params: P) => Promise<QueryResult<R>>;

/**
 * `build` receives placeholders for `params`. Each must be used as a plain value (compared,
 * inserted, set): not computed with, and not as an IN list, whose length would change the SQL.
 * A placeholder that does not reach the compiled parameters is caught on first use.
 */
export function prepareQuery<P extends object, R>(build: (db: Kysely<Database>, params: P) => Compilable<R>): PreparedQuery<P, R> {
  // Keyed by the dialect's adapter: one plan per database, shared by its transactions.
  const plans = new WeakMap<object, Plan<P>>();
  return async (db, params) => {
    const adapter = db.getExecutor().adapter;
    let plan = plans.get(adapter);
    if (!plan) {
      plan = compilePlan(db, build);
      plans.set(adapter, plan);
    }
    return db.executeQuery<R>(CompiledQuery.raw(plan.sql, plan.values.map((value) => value(params))));
  };
}

function compilePlan<P extends object, R>(db: Kysely<Database>, build: (db: Kysely<Database>, params: P) => Compilable<R>): Plan<P> {
  const used = new Set<string>();
  const placeholders = new Proxy({} as P, {
    get: (_, name) => {
      if (typeof name !== 'string') return undefined;
      used.add(name);
      return PLACEHOLDER + name;
    },
  });
  const compiled = build(db, placeholders).compile();
  const values = compiled.parameters.map((parameter): ((params: P) => unknown) => {
    if (typeof parameter === 'string' && parameter.startsWith(PLACEHOLDER)) {
      const name = parameter.slice(PLACEHOLDER.length);
      used.delete(name);
      // An absent optional value is NULL, as Kysely would bind it.
      return (params) => (params as Record<string, unknown>)[name] ?? null;
    }
    return () => parameter;
  });
  if (used.size > 0) throw new Error(`prepared query parameters not used as values: ${[...used].join(', ')}`);
  return { sql: compiled.sql, values };
}

/** The first row of a prepared select, as `executeTakeFirst` gives it. */
export async function firstRow<R>(result: Promise<QueryResult<R>>): Promise<R | undefined> {
  return (await result).rows[0];
}

/** How many rows a prepared update or delete changed. */
export async function affectedRows(result: Promise<QueryResult<unknown>>): Promise<number> {
  return Number((await result).numAffectedRows ?? 0n);
}
