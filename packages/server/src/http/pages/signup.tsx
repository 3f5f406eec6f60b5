import { MIN_PASSWORD_LENGTH, PASSWORD_RULE } from '../../platform/accounts/password-strength.js';
import { ErrorMessage, Layout } from './layout.js';

export interface SignupPageProps {
  platformName: string;
  csrfToken: string;
  returnTo: string | undefined;
  email?: string | undefined;
  name?: string | undefined;
  error?: string | undefined;
}

/** A new password field with the rule shown before the user types (sign-up and password reset). */
export function NewPasswordField({ label = 'Password' }: { label?: string }) {
  return (
    <>
      <label for="password">{label}</label>
      <p id="password-rule" class="muted">
        {PASSWORD_RULE}
      </p>
      <input id="password" name="password" type="password" autocomplete="new-password" required minLength={MIN_PASSWORD_LENGTH} aria-describedby="password-rule" />
    </>
  );
}

export function SignupPage({ platformName, csrfToken, returnTo, email, name, error }: SignupPageProps) {
  return (
    <Layout title="Create an account" platformName={platformName}>
      <h1>Create your {platformName} account</h1>
      <ErrorMessage message={error} />
      <form method="post" action="/signup">
        <input type="hidden" name="_csrf" value={csrfToken} />
        {returnTo && <input type="hidden" name="return_to" value={returnTo} />}
        <label for="name">Name</label>
        <input id="name" name="name" type="text" autocomplete="name" value={name ?? ''} />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={email ?? ''} />
        <NewPasswordField />
        <button type="submit" class="primary">Create account</button>
      </form>
    </Layout>
  );
}

/** The answer to every accepted sign-up, whether or not the address already has an account. */
export function SignupSentPage({ platformName, email }: { platformName: string; email: string }) {
  return (
    <Layout title="Check your email" platformName={platformName}>
      <h1>Check your email</h1>
      <p role="status">
        We sent a message to {email}. Open the link in it within 24 hours to finish creating your {platformName} account. If the address already has an
        account, the message says how to sign in instead.
      </p>
    </Layout>
  );
}

/** Behind the mailed link: a button (a POST), so mail scanners that prefetch links create nothing. */
export function ConfirmSignupPage({ platformName, csrfToken, token }: { platformName: string; csrfToken: string; token: string }) {
  return (
    <Layout title="Create your account" platformName={platformName}>
      <h1>Create your {platformName} account</h1>
      <form method="post" action="/signup/confirm">
        <input type="hidden" name="_csrf" value={csrfToken} />
        <input type="hidden" name="token" value={token} />
        <button type="submit" class="primary">Create account</button>
      </form>
    </Layout>
  );
}
