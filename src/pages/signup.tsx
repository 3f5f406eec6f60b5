import { MIN_PASSWORD_LENGTH } from '../accounts/passwords.js';
import { ErrorMessage, Layout } from './layout.js';

export interface SignupPageProps {
  platformName: string;
  csrfToken: string;
  returnTo: string | undefined;
  email?: string | undefined;
  name?: string | undefined;
  error?: string | undefined;
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
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="new-password" required minLength={MIN_PASSWORD_LENGTH} />
        <button type="submit" class="primary">Create account</button>
      </form>
    </Layout>
  );
}
