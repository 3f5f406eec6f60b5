/** Chart annotations: a note pinned to a moment in a project's timeline. */
import { randomUUID } from 'node:crypto';
import { OAuthError } from '../../core/oauth/errors.js';
import type { Repositories } from '../../store/index.js';
import type { AnnotationsTable } from '../../store/schema.js';

export function listAnnotations(store: Repositories, projectId: string): Promise<AnnotationsTable[]> {
  return store.analytics.listAnnotations(projectId);
}

export async function createAnnotation(store: Repositories, input: { projectId: string; userId: string; body: unknown }, now: number): Promise<AnnotationsTable> {
  const body = (input.body ?? {}) as Record<string, unknown>;
  const content = typeof body.content === 'string' ? body.content.trim() : '';
  if (!content || content.length > 400) throw new OAuthError('invalid_request', 'content must be a string of 1 to 400 characters');
  const dateMarker = body.date_marker === undefined ? now : Date.parse(String(body.date_marker));
  if (!Number.isFinite(dateMarker)) throw new OAuthError('invalid_request', 'date_marker must be an ISO 8601 date');
  const annotation: AnnotationsTable = { id: randomUUID(), project_id: input.projectId, content, date_marker: dateMarker, created_by: input.userId, created_at: now };
  await store.analytics.insertAnnotation(annotation);
  return annotation;
}

/** True when the annotation existed in that project and is now gone. */
export function deleteAnnotation(store: Repositories, projectId: string, id: string): Promise<boolean> {
  return store.analytics.deleteAnnotation(projectId, id);
}

export function presentAnnotation(row: AnnotationsTable) {
  return { id: row.id, project_id: row.project_id, content: row.content, date_marker: new Date(row.date_marker).toISOString(), created_by: row.created_by, created_at: new Date(row.created_at).toISOString() };
}
