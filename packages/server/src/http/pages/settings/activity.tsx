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
  /** The browser and system a sign-in came from, in words. */
  device: string | undefined;
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
      <DataTable headings={['Time', 'Event', 'App', 'Device', 'IP address']} rowCount={entries.length} empty="Nothing has happened on your account yet.">
        {entries.map((entry) => (
          <tr key={entry.id}>
            <td data-label="Time">{formatTime(entry.at)}</td>
            <td data-label="Event">{entry.event}</td>
            <td data-label="App">{entry.app ?? '—'}</td>
            <td data-label="Device">{entry.device ?? '—'}</td>
            <td data-label="IP address">{entry.ip ?? '—'}</td>
          </tr>
        ))}
      </DataTable>
    </SettingsLayout>
  );
}
