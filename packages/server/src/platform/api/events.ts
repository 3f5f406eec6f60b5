/**
 * Events and the query the API answers over them: event counts and unique visitors per day.
 * One SQL statement for both dialects: day buckets are integer division of epoch milliseconds.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { OAuthError } from '../../core/oauth/errors.js';
import type { Database } from '../../store/schema.js';

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 366;

export function listEventDefinitions(db: Kysely<Database>, projectId: string) {
  return db.selectFrom('event_definitions').select(['id', 'name', 'created_at']).where('project_id', '=', projectId).orderBy('name').execute();
}

export interface EventQuery {
  event: string | undefined;
  from: number;
  to: number;
}

export function parseEventQuery(body: unknown, now: number): EventQuery {
  const input = (body ?? {}) as Record<string, unknown>;
  if (typeof input !== 'object' || Array.isArray(input)) throw new OAuthError('invalid_request', 'the query must be a JSON object');
  const event = input.event;
  if (event !== undefined && (typeof event !== 'string' || !event || event.length > 200)) throw new OAuthError('invalid_request', 'event must be a non-empty string');
  const date = (name: string, fallback: number) => {
    const value = input[name];
    if (value === undefined) return fallback;
    const parsed = typeof value === 'string' ? Date.parse(value) : NaN;
    if (!Number.isFinite(parsed)) throw new OAuthError('invalid_request', `${name} must be an ISO 8601 date`);
    return parsed;
  };
  const to = date('date_to', now);
  const from = date('date_from', to - 7 * DAY_MS);
  if (from > to) throw new OAuthError('invalid_request', 'date_from must not be after date_to');
  if (to - from > MAX_RANGE_DAYS * DAY_MS) throw new OAuthError('invalid_request', `the range must not exceed ${MAX_RANGE_DAYS} days`);
  return { event: event as string | undefined, from, to };
}

export async function runEventQuery(db: Kysely<Database>, projectId: string, query: EventQuery) {
  let base = db.selectFrom('events').where('project_id', '=', projectId).where('timestamp', '>=', query.from).where('timestamp', '<=', query.to);
  if (query.event) base = base.where('event', '=', query.event);
  // A literal, not a parameter: PostgreSQL must see the GROUP BY expression as the selected one.
  const day = sql<number>`${sql.ref('timestamp')} / ${sql.lit(DAY_MS)}`;
  const [rows, totals] = await Promise.all([
    base
      .select([day.as('day'), sql<number>`count(*)`.as('count'), sql<number>`count(distinct ${sql.ref('distinct_id')})`.as('unique_visitors')])
      .groupBy(day)
      .orderBy(day)
      .execute(),
    base.select([sql<number>`count(*)`.as('count'), sql<number>`count(distinct ${sql.ref('distinct_id')})`.as('unique_visitors')]).executeTakeFirstOrThrow(),
  ]);
  return {
    event: query.event ?? null,
    date_from: new Date(query.from).toISOString(),
    date_to: new Date(query.to).toISOString(),
    results: rows.map((row) => ({ date: new Date(Number(row.day) * DAY_MS).toISOString().slice(0, 10), count: Number(row.count), unique_visitors: Number(row.unique_visitors) })),
    totals: { count: Number(totals.count), unique_visitors: Number(totals.unique_visitors) },
  };
}

/** Sample traffic for a project (`tessera project create --sample-data`): 30 days of page views, sign-ups and purchases. */
export async function seedSampleEvents(db: Kysely<Database>, projectId: string, now: number, days = 30): Promise<number> {
  const names = ['$pageview', 'signed_up', 'purchase'];
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const events: Array<{ event: string; distinctId: string; at: number }> = [];
  let seed = [...projectId].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) >>> 0, 7);
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let d = days - 1; d >= 0; d--) {
    const visitors = 20 + Math.floor(random() * 30);
    for (let v = 0; v < visitors; v++) {
      const distinctId = `visitor-${Math.floor(random() * 200)}`;
      const views = 1 + Math.floor(random() * 4);
      for (let i = 0; i < views; i++) events.push({ event: '$pageview', distinctId, at: today - d * DAY_MS + Math.floor(random() * DAY_MS) });
      if (random() < 0.1) events.push({ event: 'signed_up', distinctId, at: today - d * DAY_MS + Math.floor(random() * DAY_MS) });
      if (random() < 0.03) events.push({ event: 'purchase', distinctId, at: today - d * DAY_MS + Math.floor(random() * DAY_MS) });
    }
  }
  for (const event of events) event.at = Math.min(event.at, now);
  await db.transaction().execute(async (trx) => {
    for (const name of names) {
      await trx.insertInto('event_definitions').values({ id: randomUUID(), project_id: projectId, name, created_at: now }).onConflict((oc) => oc.columns(['project_id', 'name']).doNothing()).execute();
    }
    for (let i = 0; i < events.length; i += 500) {
      const batch = events.slice(i, i + 500).map((e) => ({ id: randomUUID(), project_id: projectId, event: e.event, distinct_id: e.distinctId, timestamp: e.at }));
      await trx.insertInto('events').values(batch).execute();
    }
  });
  return events.length;
}
