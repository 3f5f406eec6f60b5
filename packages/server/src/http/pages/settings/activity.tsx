import { SettingsLayout, type SettingsPageBase } from './layout.js';
import { DataTable, formatTime } from './format.js';

export interface ActivityEntry {
  id: string;
  at: number;
  /** What happened, in words. */
  event: string;
  /** The app involved, by name, or undefined when none was. */
  app: string | undefined;
  ip: string | null;
}

export interface ActivityPageProps extends SettingsPageBase {
  entries: ActivityEntry[];
  limit: number;
}

export function ActivityPage({ entries, limit, ...common }: ActivityPageProps) {
  return (
    <SettingsLayout title="Recent activity" current="/settings/activity" {...common}>
      <p class="muted">
        The most recent events on your account (up to {limit}), newest first. Something you do not recognize? Revoke the app under{' '}
        <a href="/settings/connected-apps">Connected apps</a>.
      </p>
      <DataTable headings={['Time', 'Event', 'App', 'IP address']} rowCount={entries.length} empty="Nothing has happened on your account yet.">
              {entries.map((entry) => (
                <tr key={entry.id}>
                  <td>{formatTime(entry.at)}</td>
                  <td>{entry.event}</td>
                  <td>{entry.app ?? '—'}</td>
                  <td>{entry.ip ?? '—'}</td>
                </tr>
              ))}
      </DataTable>
    </SettingsLayout>
  );
}
