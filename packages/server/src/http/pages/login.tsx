import { ErrorMessage, Layout } from './layout.js';

export interface LoginPageProps {
  platformName: string;
  csrfToken: string;
  returnTo: string | undefined;
  email?: string | undefined;
  error?: string | undefined;
  /** A one-line outcome of what brought the user here ("Your password was changed"). */
  notice?: string | undefined;
  signupEnabled: boolean;
  /** The app whose authorization request sent the user here. */
  appName?: string | undefined;
}

export function LoginPage({ platformName, csrfToken, returnTo, email, error, notice, signupEnabled, appName }: LoginPageProps) {
  const signupHref = returnTo ? `/signup?return_to=${encodeURIComponent(returnTo)}` : '/signup';
  return (
    <Layout title="Sign in" platformName={platformName}>
      <h1>Sign in to {platformName}</h1>
      {appName && <p class="continue-to">to continue to <strong>{appName}</strong></p>}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorMessage message={error} />
      <form method="post" action="/login">
        <input type="hidden" name="_csrf" value={csrfToken} />
        {returnTo && <input type="hidden" name="return_to" value={returnTo} />}
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={email ?? ''} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit" class="primary">Sign in</button>
      </form>
      <p class="muted">
        <a href="/password/forgot">Forgot password?</a>
      </p>
      {signupEnabled && (
        <p class="muted">
          New here? <a href={signupHref}>Create an account</a>
        </p>
      )}
    </Layout>
  );
}
