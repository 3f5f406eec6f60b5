import { ErrorMessage, Layout } from './layout.js';

/** The second step of a two-factor sign-in. */
export function TwoFactorSignInPage({ platformName, csrfToken, returnTo, error }: { platformName: string; csrfToken: string; returnTo: string | undefined; error?: string | undefined }) {
  return (
    <Layout title="Two-factor sign-in" platformName={platformName}>
      <h1>Enter your code</h1>
      <p class="muted">Open your authenticator app and enter the 6-digit code for {platformName}. Lost your phone? Enter one of your recovery codes.</p>
      <ErrorMessage message={error} />
      <form method="post" action="/login/two-factor">
        <input type="hidden" name="_csrf" value={csrfToken} />
        {returnTo && <input type="hidden" name="return_to" value={returnTo} />}
        <label for="code">Code</label>
        <input id="code" name="code" type="text" inputmode="text" autocomplete="one-time-code" required maxLength={32} />
        <button type="submit" class="primary">Verify</button>
      </form>
      <p class="muted">
        <a href="/login">Start again</a>
      </p>
    </Layout>
  );
}
