import type { ConnectedApp } from '../../../platform/connected-apps.js';
import { ErrorMessage } from '../layout.js';
import { SettingsLayout, type SettingsPageBase } from './layout.js';
import { DataTable, describeAccess, formatTime, type NameLookup, RevokeForm } from './format.js';


export function ConnectedAppsPage({ apps, names, notice, ...common }: SettingsPageBase & { apps: ConnectedApp[]; names: NameLookup; notice?: string | undefined }) {
  return (
    <SettingsLayout title="Connected apps" current="/settings/connected-apps" notice={notice} {...common}>
      <DataTable headings={['App', 'Can', 'Access', 'Last used', '']} rowCount={apps.length} empty="You have not authorized any apps.">
            {apps.map((app) => (
              <tr key={app.clientId}>
                <td>
                  {app.name}
                  {app.verified && <span class="badge verified">Verified</span>}
                </td>
                <td>
                  {app.scopes.map((scope) => (
                    <code key={scope} class="scope">
                      {scope}{' '}
                    </code>
                  ))}
                </td>
                <td>{describeAccess(app, names)}</td>
                <td>{formatTime(app.lastUsedAt)}</td>
                <td>
                  <RevokeForm action="/settings/connected-apps/revoke" csrfToken={common.csrfToken} field={{ name: 'client_id', value: app.clientId }} label={app.name} />
                </td>
              </tr>
            ))}
      </DataTable>
    </SettingsLayout>
  );
}

/** Revoking after a while signed in asks for the password again. */
export function ConfirmRevokePage({ app, error, ...common }: SettingsPageBase & { app: ConnectedApp; error?: string | undefined }) {
  return (
    <SettingsLayout title={`Revoke ${app.name}`} current="/settings/connected-apps" {...common}>
      <p>
        {app.name} will lose access to your account at once: its tokens stop working and it will have to ask you again.
      </p>
      <ErrorMessage message={error} />
      <form method="post" action="/settings/connected-apps/revoke">
        <input type="hidden" name="_csrf" value={common.csrfToken} />
        <input type="hidden" name="client_id" value={app.clientId} />
        <label for="password">Confirm with your password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <div class="actions">
          <a href="/settings/connected-apps">Cancel</a>
          <button type="submit" class="danger">
            Revoke access
          </button>
        </div>
      </form>
    </SettingsLayout>
  );
}
