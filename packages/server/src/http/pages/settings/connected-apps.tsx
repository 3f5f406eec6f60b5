import type { ConnectedApp } from '../../../platform/connected-apps.js';
import { describeScopes } from '../../../platform/scopes.js';
import { AppLogo } from '../app-logo.js';
import { ErrorMessage } from '../layout.js';
import { SettingsLayout, type SettingsPageBase } from './layout.js';
import { DataTable, describeAccess, formatTime, type NameLookup } from './format.js';

/** What the app may do, in the consent page's words, with the scope itself for those who want it. */
function ScopeList({ scopes }: { scopes: string[] }) {
  return (
    <ul class="scopes compact">
      {describeScopes(scopes).map(({ scope, description }) => (
        <li key={scope}>
          {description} <code>{scope}</code>
        </li>
      ))}
    </ul>
  );
}

export function ConnectedAppsPage({ apps, names, notice, ...common }: SettingsPageBase & { apps: ConnectedApp[]; names: NameLookup; notice?: string | undefined }) {
  return (
    <SettingsLayout title="Connected apps" current="/settings/connected-apps" notice={notice} {...common}>
      <DataTable headings={['App', 'It can', 'Access', 'Last used', '']} rowCount={apps.length} empty="You have not authorized any apps.">
        {apps.map((app) => (
          <tr key={app.clientId}>
            <td class="app-cell">
              <AppLogo name={app.name} logoUri={app.logoUri} size={32} />
              <span>
                {app.name}
                {app.verified && <span class="badge verified">Verified</span>}
              </span>
            </td>
            <td data-label="It can">
              <ScopeList scopes={app.scopes} />
            </td>
            <td data-label="Access">{describeAccess(app, names)}</td>
            <td data-label="Last used">{formatTime(app.lastUsedAt)}</td>
            <td>
              {/* The first step only asks: the next page says what revoking does and confirms it. */}
              <form method="post" action="/settings/connected-apps/revoke">
                <input type="hidden" name="_csrf" value={common.csrfToken} />
                <input type="hidden" name="client_id" value={app.clientId} />
                <button type="submit" class="secondary" aria-label={`Revoke ${app.name}`}>
                  Revoke…
                </button>
              </form>
            </td>
          </tr>
        ))}
      </DataTable>
    </SettingsLayout>
  );
}

/**
 * The confirmation step before an app loses access; a session signed in a while ago also proves
 * it is still its owner with the password.
 */
export function ConfirmRevokePage({ app, needsPassword, error, ...common }: SettingsPageBase & { app: ConnectedApp; needsPassword: boolean; error?: string | undefined }) {
  return (
    <SettingsLayout title={`Revoke ${app.name}?`} current="/settings/connected-apps" {...common}>
      <p>
        {app.name} will lose access to your account at once: its tokens stop working and it will have to ask you again. It can now:
      </p>
      <ScopeList scopes={app.scopes} />
      <ErrorMessage message={error} />
      <form method="post" action="/settings/connected-apps/revoke">
        <input type="hidden" name="_csrf" value={common.csrfToken} />
        <input type="hidden" name="client_id" value={app.clientId} />
        <input type="hidden" name="confirm" value="yes" />
        {needsPassword && (
          <>
            <label for="password">Confirm with your password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
          </>
        )}
        <div class="actions">
          <a href="/settings/connected-apps" class="button-link">
            Cancel
          </a>
          <button type="submit" class="danger">
            Revoke access
          </button>
        </div>
      </form>
    </SettingsLayout>
  );
}
