import type { TwoFactorStatus, Enrolment } from '../../../platform/accounts/two-factor.js';
import type { Organization } from '../../../store/schema.js';
import { ErrorMessage } from '../layout.js';
import { SettingsLayout, type SettingsPageBase } from './layout.js';

const CURRENT = '/settings/security';

/** The password, or a code from the authenticator (or a recovery code): what changing two-factor asks for. */
function ProofField() {
  return (
    <>
      <label for="proof">Your password, or a code from your authenticator app</label>
      <input id="proof" name="proof" type="password" autocomplete="current-password" required />
    </>
  );
}

export interface SecurityPageProps extends SettingsPageBase {
  status: TwoFactorStatus;
  /** Organizations the user owns, each of which may require two-factor sign-in. */
  ownedOrganizations: Organization[];
  notice?: string | undefined;
  error?: string | undefined;
}

export function SecurityPage({ status, ownedOrganizations, notice, error, ...common }: SecurityPageProps) {
  const csrf = <input type="hidden" name="_csrf" value={common.csrfToken} />;
  return (
    <SettingsLayout title="Security" current={CURRENT} notice={notice} {...common}>
      <ErrorMessage message={error} />
      <h2>Two-factor sign-in</h2>
      {status.enabled ? (
        <>
          <p>
            <strong>On.</strong> Signing in asks for a code from your authenticator app after your password. {status.recoveryCodesLeft} of 10 recovery codes
            left.
          </p>
          <form method="post" action="/settings/security/recovery-codes">
            {csrf}
            <ProofField />
            <button type="submit" class="primary">Make new recovery codes</button>
          </form>
          <form method="post" action="/settings/security/two-factor/disable">
            {csrf}
            <ProofField />
            <div class="actions">
              <button type="submit" class="danger">Turn off two-factor sign-in</button>
            </div>
          </form>
        </>
      ) : (
        <form method="post" action="/settings/security/two-factor/start">
          {csrf}
          <p>
            <strong>Off.</strong> With two-factor sign-in, someone who learns your password still cannot sign in without your phone.
          </p>
          <button type="submit" class="primary">Set up two-factor sign-in</button>
        </form>
      )}
      {ownedOrganizations.length > 0 && (
        <>
          <h2>Organizations you own</h2>
          <p class="muted">
            Require two-factor sign-in, and apps can read an organization's data only for members who signed in with two-factor when they authorized the app.
          </p>
          <table>
            <tbody>
              {ownedOrganizations.map((organization) => (
                <tr key={organization.id}>
                  <td>{organization.name}</td>
                  <td>{organization.require_two_factor ? 'Two-factor sign-in required' : 'Two-factor sign-in not required'}</td>
                  <td>
                    <form method="post" action="/settings/security/organizations">
                      {csrf}
                      <input type="hidden" name="organization_id" value={organization.id} />
                      <input type="hidden" name="require" value={organization.require_two_factor ? 'off' : 'on'} />
                      <button type="submit" aria-label={`${organization.require_two_factor ? 'Stop requiring' : 'Require'} two-factor sign-in for ${organization.name}`}>
                        {organization.require_two_factor ? 'Stop requiring' : 'Require'}
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </SettingsLayout>
  );
}

/** Scan, then confirm with a first code (and the password when the session is not fresh). */
export function EnrolmentPage({ enrolment, askPassword, error, ...common }: SettingsPageBase & { enrolment: Enrolment; askPassword: boolean; error?: string | undefined }) {
  return (
    <SettingsLayout title="Set up two-factor sign-in" current={CURRENT} {...common}>
      <p>Scan this code with an authenticator app (1Password, Google Authenticator, Authy, …), then enter the 6-digit code it shows.</p>
      <img class="qr" src={enrolment.qrCode} alt="QR code for your authenticator app" />
      <p class="muted">
        Cannot scan? Enter this key: <code class="secret" id="totp-secret">{enrolment.secret}</code>
      </p>
      <ErrorMessage message={error} />
      <form method="post" action="/settings/security/two-factor/confirm">
        <input type="hidden" name="_csrf" value={common.csrfToken} />
        <label for="code">Code from the app</label>
        <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required />
        {askPassword && (
          <>
            <label for="password">Your password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
          </>
        )}
        <button type="submit" class="primary">Turn on two-factor sign-in</button>
      </form>
    </SettingsLayout>
  );
}

/** Recovery codes, shown once. */
export function RecoveryCodesPage({ codes, ...common }: SettingsPageBase & { codes: string[] }) {
  return (
    <SettingsLayout title="Your recovery codes" current={CURRENT} notice="Two-factor sign-in is on." {...common}>
      <p>
        Each code signs you in once if you lose your authenticator. Keep them somewhere safe, such as a password manager: they are shown <strong>only now</strong>.
      </p>
      <ul class="recovery-codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <p>
        <a href={CURRENT}>Done</a>
      </p>
    </SettingsLayout>
  );
}
