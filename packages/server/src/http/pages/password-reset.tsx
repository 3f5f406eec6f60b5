import { ErrorMessage, Layout } from './layout.js';
import { NewPasswordField } from './signup.js';

export function ForgotPasswordPage({ platformName, csrfToken }: { platformName: string; csrfToken: string }) {
  return (
    <Layout title="Reset your password" platformName={platformName}>
      <h1>Reset your password</h1>
      <p class="muted">Enter the email address of your account. We will send it a link to choose a new password.</p>
      <form method="post" action="/password/forgot">
        <input type="hidden" name="_csrf" value={csrfToken} />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required />
        <button type="submit" class="primary">Send reset link</button>
      </form>
      <p class="muted">
        <a href="/login">Back to sign-in</a>
      </p>
    </Layout>
  );
}

/** The answer to every reset request, whether or not the address has an account. */
export function ResetSentPage({ platformName, email }: { platformName: string; email: string }) {
  return (
    <Layout title="Check your email" platformName={platformName}>
      <h1>Check your email</h1>
      <p role="status">
        If {email} belongs to a {platformName} account, we sent it a link to reset the password. The link works once, for 30 minutes.
      </p>
    </Layout>
  );
}

export function ResetPasswordPage({ platformName, csrfToken, token, email, error }: { platformName: string; csrfToken: string; token: string; email: string; error?: string | undefined }) {
  return (
    <Layout title="Choose a new password" platformName={platformName}>
      <h1>Choose a new password</h1>
      <p class="muted">For {email}. Every device signed in to your account will be signed out.</p>
      <ErrorMessage message={error} />
      <form method="post" action="/password/reset">
        <input type="hidden" name="_csrf" value={csrfToken} />
        <input type="hidden" name="token" value={token} />
        {/* Lets password managers file the new password under the right account. */}
        <input type="hidden" name="username" autocomplete="username" value={email} />
        <NewPasswordField label="New password" />
        <button type="submit" class="primary">Set new password</button>
      </form>
    </Layout>
  );
}
