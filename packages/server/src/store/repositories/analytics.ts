/**
 * The reference platform API's data: events, their definitions, and annotations. The daily
 * counts are one statement for both dialects: day buckets are integer division of epoch milliseconds.
 */
import { sql, type Kysely } from 'kysely';
import type { AnnotationsTable, Database, EventDefinitionsTable, EventsTable } from '../schema.js';

export const DAY_MS = 86_400_000;

export interface DailyCount {
  /** Days since the epoch. */
  day: number;
  count: number;
  uniqueVisitors: number;
}

export class AnalyticsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  listEventDefinitions(projectId: string): Promise<Array<Pick<EventDefinitionsTable, 'id' | 'name' | 'created_at'>>> {
    return this.db.selectFrom('event_definitions').select(['id', 'name', 'created_at']).where('project_id', '=', projectId).orderBy('name').execute();
  }

  /** Adds the event definitions a project lacks, and the events, in batches. */
  async insertEvents(projectId: string, definitions: Array<Omit<EventDefinitionsTable, 'project_id'>>, events: EventsTable[]): Promise<void> {
    for (const definition of definitions) {
      await this.db.insertInto('event_definitions').values({ ...definition, project_id: projectId }).onConflict((oc) => oc.columns(['project_id', 'name']).doNothing()).execute();
    }
    for (let i = 0; i < events.length; i += 500) await this.db.insertInto('events').values(events.slice(i, i + 500)).execute();
  }

  /** Events of a project in [from, to], by day, and in total; only `event` when given. */
  async countEvents(projectId: string, query: { event: string | undefined; from: number; to: number }): Promise<{ days: DailyCount[]; total: Omit<DailyCount, 'day'> }> {
    let base = this.db.selectFrom('events').where('project_id', '=', projectId).where('timestamp', '>=', query.from).where('timestamp', '<=', query.to);
    if (query.event) base = base.where('event', '=', query.event);
    // A literal, not a parameter: PostgreSQL must see the GROUP BY expression as the selected one.
    const day = sql<number>`${sql.ref('timestamp')} / ${sql.lit(DAY_MS)}`;
    const counts = [sql<number>`count(*)`.as('count'), sql<number>`count(distinct ${sql.ref('distinct_id')})`.as('unique_visitors')] as const;
    const [rows, totals] = await Promise.all([
      base.select([day.as('day'), ...counts]).groupBy(day).orderBy(day).execute(),
      base.select([...counts]).executeTakeFirstOrThrow(),
    ]);
    return {
      days: rows.map((row) => ({ day: Number(row.day), count: Number(row.count), uniqueVisitors: Number(row.unique_visitors) })),
      total: { count: Number(totals.count), uniqueVisitors: Number(totals.unique_visitors) },
    };
  }

  /** A project's annotations, latest date first, at most 500. */
  listAnnotations(projectId: string): Promise<AnnotationsTable[]> {
    return this.db.selectFrom('annotations').selectAll().where('project_id', '=', projectId).orderBy('date_marker', 'desc').limit(500).execute();
  }

  async insertAnnotation(annotation: AnnotationsTable): Promise<void> {
    await this.db.insertInto('annotations').values(annotation).execute();
  }

  /** True when the annotation existed in that project and is now gone. */
  async deleteAnnotation(projectId: string, id: string): Promise<boolean> {
    return (await this.db.deleteFrom('annotations').where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst()).numDeletedRows > 0n;
  }
}
