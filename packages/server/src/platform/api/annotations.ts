/** Chart annotations: a note pinned to a moment in a project's timeline. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { OAuthError } from '../../core/oauth/errors.js';
import type { AnnotationsTable, Database } from '../../store/schema.js';

export function listAnnotations(db: Kysely<Database>, projectId: string): Promise<AnnotationsTable[]> {
  return db.selectFrom('annotations').selectAll().where('project_id', '=', projectId).orderBy('date_marker', 'desc').limit(500).execute();
}

export async function createAnnotation(db: Kysely<Database>, input: { projectId: string; userId: string; body: unknown }, now: number): Promise<AnnotationsTable> {
  const body = (input.body ?? {}) as Record<string, unknown>;
  const content = typeof body.content === 'string' ? body.content.trim() : '';
  if (!content || content.length > 400) throw new OAuthError('invalid_request', 'content must be a string of 1 to 400 characters');
  const dateMarker = body.date_marker === undefined ? now : Date.parse(String(body.date_marker));
  if (!Number.isFinite(dateMarker)) throw new OAuthError('invalid_request', 'date_marker must be an ISO 8601 date');
  const annotation: AnnotationsTable = { id: randomUUID(), project_id: input.projectId, content, date_marker: dateMarker, created_by: input.userId, created_at: now };
  await db.insertInto('annotations').values(annotation).execute();
  return annotation;
}

/** True when the annotation existed in that project and is now gone. */
export async function deleteAnnotation(db: Kysely<Database>, projectId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('annotations').where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export function presentAnnotation(row: AnnotationsTable) {
  return { id: row.id, project_id: row.project_id, content: row.content, date_marker: new Date(row.date_marker).toISOString(), created_by: row.created_by, created_at: new Date(row.created_at).toISOString() };
}
