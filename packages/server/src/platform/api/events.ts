/** Events and the query the API answers over them: event counts and unique visitors per day. */
import { randomUUID } from 'node:crypto';
import { OAuthError } from '../../core/oauth/errors.js';
import { DAY_MS, type Repositories, type Store } from '../../store/index.js';
const MAX_RANGE_DAYS = 366;

export function listEventDefinitions(store: Repositories, projectId: string) {
  return store.analytics.listEventDefinitions(projectId);
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

export async function runEventQuery(store: Repositories, projectId: string, query: EventQuery) {
  const { days, total } = await store.analytics.countEvents(projectId, query);
  return {
    event: query.event ?? null,
    date_from: new Date(query.from).toISOString(),
    date_to: new Date(query.to).toISOString(),
    results: days.map((row) => ({ date: new Date(row.day * DAY_MS).toISOString().slice(0, 10), count: row.count, unique_visitors: row.uniqueVisitors })),
    totals: { count: total.count, unique_visitors: total.uniqueVisitors },
  };
}

/** Sample traffic for a project (`tessera project create --sample-data`): 30 days of page views, sign-ups and purchases. */
export async function seedSampleEvents(store: Store, projectId: string, now: number, days = 30): Promise<number> {
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
  const definitions = names.map((name) => ({ id: randomUUID(), name, created_at: now }));
  const rows = events.map((e) => ({ id: randomUUID(), project_id: projectId, event: e.event, distinct_id: e.distinctId, timestamp: e.at }));
  await store.transaction((tx) => tx.analytics.insertEvents(projectId, definitions, rows));
  return events.length;
}
