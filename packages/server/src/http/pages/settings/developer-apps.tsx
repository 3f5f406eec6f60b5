/** Settings › Developers › Apps: the apps of the organizations a user administers. */
import type { ManagedApp } from '../../../platform/developer-apps/apps.js';
import { MAX_CLIENT_NAME_LENGTH } from '../../../core/clients/metadata-rules.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../../core/oauth/grant-types/names.js';
import { SCOPE_DESCRIPTIONS, SUPPORTED_SCOPES } from '../../../platform/scopes.js';
import type { Organization } from '../../../store/schema.js';
import { ErrorList, ErrorMessage } from '../layout.js';
import { DataTable } from './format.js';
import { SettingsLayout, type SettingsPageBase } from './layout.js';

const CURRENT = '/settings/developers/apps';
export const appPath = (clientId: string) => `${CURRENT}/${encodeURIComponent(clientId)}`;


export interface DeveloperAppsPageProps extends SettingsPageBase {
  apps: ManagedApp[];
  canCreate: boolean;
  notice?: string | undefined;
}

export function DeveloperAppsPage({ apps, canCreate, notice, ...base }: DeveloperAppsPageProps) {
  return (
    <SettingsLayout title="Developer apps" current={CURRENT} notice={notice} {...base}>
      {canCreate ? (
        <p>
          <a href={`${CURRENT}/new`}>Create an app</a>
        </p>
      ) : (
        <p class="muted">Only owners and admins of an organization can create apps for it.</p>
      )}
      <DataTable headings={['App', 'Client ID', 'Organization', 'Type']} rowCount={apps.length} empty="No apps yet.">
            {apps.map(({ client, organization }) => (
              <tr key={client.id}>
                <td>
                  <a href={appPath(client.id)}>{client.name}</a>
                  {client.verified && <span class="badge verified">Verified</span>}
                </td>
                <td>
                  <code>{client.id}</code>
                </td>
                <td>{organization.name}</td>
                <td>{client.isPublic ? 'Public' : 'Confidential'}</td>
              </tr>
            ))}
      </DataTable>
    </SettingsLayout>
  );
}

/** What the form shows: the values submitted (after an error) or stored. */
export interface AppFormValues {
  organizationId: string;
  name: string;
  description: string;
  /** One redirect URL per line. */
  redirectUris: string;
  logoUrl: string;
  scopes: string[];
  isPublic: boolean;
  /** The app is registered for the refresh_token grant. */
  refreshTokens: boolean;
  /** How users sign in: the code flow, the device authorization grant (RFC 8628), or both. */
  signIn: AppSignIn;
}

/** `browser`: authorization_code (redirect URLs needed); `device`: the device grant alone (none needed). */
export type AppSignIn = 'browser' | 'browser_and_device' | 'device';

export function appSignInOf(grantTypes: readonly string[]): AppSignIn {
  const browser = grantTypes.includes('authorization_code');
  if (!grantTypes.includes(DEVICE_CODE_GRANT_TYPE)) return 'browser';
  return browser ? 'browser_and_device' : 'device';
}

export const EMPTY_APP_FORM: AppFormValues = { organizationId: '', name: '', description: '', redirectUris: '', logoUrl: '', scopes: [], isPublic: false, refreshTokens: true, signIn: 'browser' };

export function appFormValues(app: ManagedApp): AppFormValues {
  const { client } = app;
  return {
    organizationId: app.organization.id,
    name: client.name,
    description: client.description ?? '',
    redirectUris: client.redirectUris.join('\n'),
    logoUrl: app.logoUploaded ? '' : (client.logoUri ?? ''),
    scopes: client.scopeCeiling ?? [],
    isPublic: client.isPublic,
    refreshTokens: client.grantTypes.includes('refresh_token'),
    signIn: appSignInOf(client.grantTypes),
  };
}

/** The fields both the create and the edit form have. */
function AppSettingsFields({ values, logoUri }: { values: AppFormValues; logoUri: string | null }) {
  return (
    <>
      <label for="name">Name</label>
      <input id="name" name="name" type="text" required maxLength={MAX_CLIENT_NAME_LENGTH} value={values.name} />
      <label for="description">Description</label>
      <textarea id="description" name="description" rows={3} maxLength={500}>
        {values.description}
      </textarea>
      <fieldset>
        <legend>How users sign in</legend>
        <label class="choice">
          <input type="radio" name="sign_in" value="browser" checked={values.signIn === 'browser'} /> In a browser: the app sends the user here, and they come
          back to the app
        </label>
        <label class="choice">
          <input type="radio" name="sign_in" value="browser_and_device" checked={values.signIn === 'browser_and_device'} /> In a browser, and with device
          sign-in
        </label>
        <label class="choice">
          <input type="radio" name="sign_in" value="device" checked={values.signIn === 'device'} /> Device sign-in only: the app shows a code that the user
          enters at <code>/device</code> on another device (for command lines, TVs and servers without a browser)
        </label>
      </fieldset>
      <label for="redirect_uris">Redirect URLs</label>
      <textarea id="redirect_uris" name="redirect_uris" rows={3} aria-describedby="redirect_uris_hint">
        {values.redirectUris}
      </textarea>
      <p class="muted" id="redirect_uris_hint">
        One per line, matched exactly: https, http on 127.0.0.1, [::1] or localhost, or a private-use scheme such as <code>com.example.app:/callback</code>.
        Required for browser sign-in; an app with device sign-in only needs none.
      </p>
      <fieldset>
        <legend>Logo</legend>
        {logoUri && (
          <p>
            <img class="logo" src={logoUri} alt="Current logo" width={48} height={48} referrerpolicy="no-referrer" />
            <label class="choice">
              <input type="checkbox" name="remove_logo" value="1" /> Remove the logo
            </label>
          </p>
        )}
        <label for="logo">Upload an image (PNG, JPEG or WebP, at most 256 KB)</label>
        <input id="logo" name="logo" type="file" accept="image/png,image/jpeg,image/webp" />
        <label for="logo_url">Or an https URL of the image</label>
        <input id="logo_url" name="logo_url" type="url" value={values.logoUrl} placeholder="https://" />
      </fieldset>
      <fieldset>
        <legend>Scopes the app may ask for</legend>
        {SUPPORTED_SCOPES.map((scope) => (
          <label key={scope} class="choice">
            <input type="checkbox" name="scope" value={scope} checked={values.scopes.includes(scope)} /> <code>{scope}</code>{' '}
            <span class="muted">{SCOPE_DESCRIPTIONS[scope]}</span>
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Refresh tokens</legend>
        <label class="choice">
          <input type="radio" name="refresh_tokens" value="on" checked={values.refreshTokens} /> Issue refresh tokens, a new one on every use, so the app
          stays signed in
        </label>
        <label class="choice">
          <input type="radio" name="refresh_tokens" value="off" checked={!values.refreshTokens} /> Access tokens only: the user signs in again when one
          expires
        </label>
      </fieldset>
    </>
  );
}

export interface NewAppPageProps extends SettingsPageBase {
  organizations: Organization[];
  values: AppFormValues;
  /** Every mistake in the submitted form. */
  errors?: string[] | undefined;
}

export function NewAppPage({ organizations, values, errors, ...base }: NewAppPageProps) {
  return (
    <SettingsLayout title="Create an app" current={CURRENT} {...base}>
      <ErrorList messages={errors} />
      <form method="post" action={CURRENT} enctype="multipart/form-data">
        <input type="hidden" name="_csrf" value={base.csrfToken} />
        <label for="organization_id">Organization</label>
        <select id="organization_id" name="organization_id" required>
          {organizations.map((organization) => (
            <option key={organization.id} value={organization.id} selected={organization.id === values.organizationId}>
              {organization.name}
            </option>
          ))}
        </select>
        <AppSettingsFields values={values} logoUri={null} />
        <fieldset>
          <legend>Client type</legend>
          <label class="choice">
            <input type="radio" name="client_type" value="confidential" checked={!values.isPublic} /> Confidential: a server that can keep a client secret
          </label>
          <label class="choice">
            <input type="radio" name="client_type" value="public" checked={values.isPublic} /> Public: a browser or native app (PKCE only, no secret)
          </label>
        </fieldset>
        <button type="submit" class="primary">Create app</button>
      </form>
    </SettingsLayout>
  );
}

export interface EditAppPageProps extends SettingsPageBase {
  app: ManagedApp;
  values: AppFormValues;
  /** Every mistake in the submitted form. */
  errors?: string[] | undefined;
  notice?: string | undefined;
}

export function EditAppPage({ app, values, errors, notice, ...base }: EditAppPageProps) {
  const { client } = app;
  return (
    <SettingsLayout title={client.name} current={CURRENT} notice={notice} {...base}>
      <p>
        Client ID <code>{client.id}</code> · {app.organization.name} · {client.isPublic ? 'Public' : 'Confidential'}
        {client.verified && <span class="badge verified" title={`Verified by ${base.platformName}`}>Verified</span>}
      </p>
      <ErrorList messages={errors} />
      <form method="post" action={appPath(client.id)} enctype="multipart/form-data">
        <input type="hidden" name="_csrf" value={base.csrfToken} />
        <AppSettingsFields values={values} logoUri={client.logoUri} />
        <button type="submit" class="primary">Save changes</button>
      </form>
      {!client.isPublic && (
        <form method="post" action={`${appPath(client.id)}/secret`}>
          <h2>Client secret</h2>
          <p class="muted">A new secret replaces the current one at once; tokens already issued keep working.</p>
          <input type="hidden" name="_csrf" value={base.csrfToken} />
          <button type="submit">Rotate secret</button>
        </form>
      )}
      <h2>Delete</h2>
      <p>
        <a href={`${appPath(client.id)}/delete`}>Delete this app</a>
      </p>
    </SettingsLayout>
  );
}

export interface AppSecretPageProps extends SettingsPageBase {
  appName: string;
  clientId: string;
  clientSecret: string | undefined;
  /** The app was just created (otherwise its secret was rotated). */
  created: boolean;
}

export function AppSecretPage({ appName, clientId, clientSecret, created, ...base }: AppSecretPageProps) {
  return (
    <SettingsLayout title={created ? `Created ${appName}` : `New secret for ${appName}`} current={CURRENT} {...base}>
      <label for="client-id">Client ID</label>
      <p class="secret" id="client-id">{clientId}</p>
      {clientSecret ? (
        <>
          <label for="client-secret">Client secret</label>
          <p class="secret" id="client-secret">{clientSecret}</p>
          <p class="warning" role="alert">
            Copy the secret now: it is shown only once.{!created && ' The previous secret no longer works.'}
          </p>
        </>
      ) : (
        <p class="muted">A public app has no client secret; it proves itself with PKCE.</p>
      )}
      <p>
        <a href={appPath(clientId)}>Continue to the app's settings</a>
      </p>
    </SettingsLayout>
  );
}

export interface DeleteAppPageProps extends SettingsPageBase {
  app: ManagedApp;
  error?: string | undefined;
}

export function DeleteAppPage({ app, error, ...base }: DeleteAppPageProps) {
  const { client } = app;
  return (
    <SettingsLayout title={`Delete ${client.name}`} current={CURRENT} {...base}>
      <p class="warning">
        Deleting <strong>{client.name}</strong> revokes every token it holds, removes it from every user's connected apps, and its client ID
        never works again. This cannot be undone.
      </p>
      <ErrorMessage message={error} />
      <form method="post" action={`${appPath(client.id)}/delete`}>
        <input type="hidden" name="_csrf" value={base.csrfToken} />
        <label for="confirm_name">Type the app's name, {client.name}, to confirm</label>
        <input id="confirm_name" name="confirm_name" type="text" required autocomplete="off" />
        <div class="actions">
          <a href={appPath(client.id)}>Cancel</a>
          <button type="submit" class="danger">
            Delete {client.name}
          </button>
        </div>
      </form>
    </SettingsLayout>
  );
}
