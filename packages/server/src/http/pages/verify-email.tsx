import { Layout } from './layout.js';

/**
 * The confirmation step behind a verification link. Confirming takes a button press (a POST), so
 * mail scanners that prefetch links do not verify an address on the user's behalf.
 */
export function VerifyEmailPage({ platformName, csrfToken, token }: { platformName: string; csrfToken: string; token: string }) {
  return (
    <Layout title="Confirm your email" platformName={platformName}>
      <h1>Confirm your email address</h1>
      <form method="post" action="/verify-email">
        <input type="hidden" name="_csrf" value={csrfToken} />
        <input type="hidden" name="token" value={token} />
        <button type="submit" class="primary">Confirm email address</button>
      </form>
    </Layout>
  );
}

export function EmailVerifiedPage({ platformName, email }: { platformName: string; email: string }) {
  return (
    <Layout title="Email confirmed" platformName={platformName}>
      <h1>Email confirmed</h1>
      <p role="status">{email} is confirmed. Apps you allow to see your email will be told it is verified.</p>
      <p>
        <a href="/">Continue</a>
      </p>
    </Layout>
  );
}
