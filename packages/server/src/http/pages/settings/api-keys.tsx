import type { ApiKey } from '../../../store/schema.js';
import { narrowingOf, type Membership } from '../../../core/oauth/narrowing.js';
import { AccessPicker } from '../access-picker.js';
import { ErrorMessage } from '../layout.js';
import { DataTable, describeAccess, formatTime, type NameLookup, RevokeForm } from './format.js';
import { SettingsLayout, type SettingsPageBase } from './layout.js';

export interface ApiKeysPageProps extends SettingsPageBase {
  keys: ApiKey[];
  names: NameLookup;
  memberships: Membership[];
  scopes: Array<{ scope: string; description: string }>;
  /** The key just created: shown this once. */
  created?: { label: string; key: string } | undefined;
  error?: string | undefined;
  notice?: string | undefined;
}

export function ApiKeysPage({ keys, names, memberships, scopes, created, error, notice, ...common }: ApiKeysPageProps) {
  return (
    <SettingsLayout title="Personal API keys" current="/settings/api-keys" notice={notice} {...common}>
      {created && (
        <div class="notice" role="status">
          <p>
            Your new key <strong>{created.label}</strong>. Copy it now: it will not be shown again.
          </p>
          <p class="secret" data-testid="new-api-key">
            {created.key}
          </p>
        </div>
      )}
      <DataTable headings={['Label', 'Key', 'Scopes', 'Access', 'Created', 'Last used', '']} rowCount={keys.length} empty="You have no personal API keys.">
            {keys.map((key) => (
              <tr key={key.id}>
                <td>{key.label}</td>
                <td>
                  <code>{key.mask}</code>
                </td>
                <td>{key.scope}</td>
                <td>{describeAccess(narrowingOf(key), names)}</td>
                <td>{formatTime(key.created_at)}</td>
                <td>{formatTime(key.last_used_at)}</td>
                <td>
                  <RevokeForm action="/settings/api-keys/revoke" csrfToken={common.csrfToken} field={{ name: 'id', value: key.id }} label={key.label} />
                </td>
              </tr>
            ))}
      </DataTable>
      <h2>Create a key</h2>
      <ErrorMessage message={error} />
      <form method="post" action="/settings/api-keys">
        <input type="hidden" name="_csrf" value={common.csrfToken} />
        <label for="label">Label</label>
        <input id="label" name="label" type="text" maxLength={100} required />
        <fieldset class="access">
          <legend>Scopes</legend>
          {scopes.map(({ scope, description }) => (
            <label key={scope} class="choice">
              <input type="checkbox" name="scopes" value={scope} /> {description} <code>{scope}</code>
            </label>
          ))}
        </fieldset>
        <AccessPicker memberships={memberships} />
        <button type="submit" class="primary">
          Create key
        </button>
      </form>
    </SettingsLayout>
  );
}
