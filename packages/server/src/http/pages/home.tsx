import { Layout } from './layout.js';

export interface HomePageProps {
  platformName: string;
  email: string;
  emailVerified: boolean;
  /** Set right after a new verification link was sent. */
  verificationSent?: boolean;
  csrfToken: string;
}

/** The settings pages a signed-in user can reach from home. */
const SETTINGS_LINKS = [
  { href: '/settings/security', label: 'Security: two-factor sign-in' },
  { href: '/settings/connected-apps', label: 'Connected apps' },
  { href: '/settings/api-keys', label: 'Personal API keys' },
  { href: '/settings/developers/apps', label: 'Developer apps' },
  { href: '/settings/activity', label: 'Recent activity' },
];

export function HomePage({ platformName, email, emailVerified, verificationSent, csrfToken }: HomePageProps) {
  return (
    <Layout title="Home" platformName={platformName} signedInAs={{ email, csrfToken }}>
      <h1>Signed in as {email}</h1>
      {!emailVerified && (
        <form method="post" action="/verify-email/resend" class="warning">
          <input type="hidden" name="_csrf" value={csrfToken} />
          {verificationSent ? 'We sent a new confirmation link to your address. ' : 'Your email address is not confirmed yet. '}
          <button type="submit" class="link">Send a new confirmation link</button>
        </form>
      )}
      <ul class="links">
        {SETTINGS_LINKS.map((link) => (
          <li key={link.href}>
            <a href={link.href}>{link.label}</a>
          </li>
        ))}
      </ul>
    </Layout>
  );
}
