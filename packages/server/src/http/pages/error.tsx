import { Layout } from './layout.js';

/**
 * Every error page ends with a way on: the home page (which sends a signed-out visitor to sign
 * in), and, when the user came from an app, the hint that they can go back to it.
 */
export interface ErrorPageProps {
  platformName: string;
  title: string;
  message: string;
  /** Ways to put it right, shown before the way home (another region to try). */
  actions?: Array<{ href: string; label: string }> | undefined;
}

export function ErrorPage({ platformName, title, message, actions }: ErrorPageProps) {
  return (
    <Layout title={title} platformName={platformName}>
      <h1>{title}</h1>
      <p role="alert">{message}</p>
      {actions && actions.length > 0 && (
        <ul class="links">
          {actions.map((action) => (
            <li key={action.href}>
              <a href={action.href}>{action.label}</a>
            </li>
          ))}
        </ul>
      )}
      <p>
        <a href="/" class="button-link">
          Go to the {platformName} home page
        </a>
      </p>
      <p class="muted">If an app sent you here, you can also close this window and go back to it.</p>
    </Layout>
  );
}
