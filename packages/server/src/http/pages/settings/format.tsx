/** Small presentation pieces shared by the settings pages. */
import type { ComponentChildren } from 'preact';
import type { Narrowing } from '../../../core/oauth/narrowing.js';

/** Organization and project names by id, from the user's memberships. */
export type NameLookup = ReadonlyMap<string, string>;

export function formatTime(ms: number | null): string {
  return ms === null ? 'Never' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function describeAccess(narrowing: Pick<Narrowing, 'accessLevel' | 'organizationIds' | 'projectIds'>, names: NameLookup): string {
  const named = (ids: string[]) => ids.map((id) => names.get(id) ?? id).join(', ');
  if (narrowing.accessLevel === 'organization') return `Organizations: ${named(narrowing.organizationIds)}`;
  if (narrowing.accessLevel === 'project') return `Projects: ${named(narrowing.projectIds)}`;
  return 'All organizations and projects';
}

/** A table with a heading row, or a line saying there is nothing to list. On a phone its rows stack (cells with data-label show their heading). */
export function DataTable({ headings, rowCount, empty, children }: { headings: string[]; rowCount: number; empty: string; children: ComponentChildren }) {
  if (rowCount === 0) return <p class="muted">{empty}</p>;
  return (
    <table class="stack">
      <thead>
        <tr>
          {headings.map((heading, index) => (
            <th key={index}>{heading}</th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** A one-button form that revokes one thing, named for screen readers. */
export function RevokeForm({ action, csrfToken, field, label }: { action: string; csrfToken: string; field: { name: string; value: string }; label: string }) {
  return (
    <form method="post" action={action}>
      <input type="hidden" name="_csrf" value={csrfToken} />
      <input type="hidden" name={field.name} value={field.value} />
      <button type="submit" class="danger" aria-label={`Revoke ${label}`}>
        Revoke
      </button>
    </form>
  );
}
