import type { ComponentChildren } from 'preact';

export interface LayoutProps {
  title: string;
  platformName: string;
  children: ComponentChildren;
  /** The signed-in user's email, shown in the header with a sign-out button. */
  signedInAs?: { email: string; csrfToken: string } | undefined;
  /** Settings and other table-heavy pages use the full width. */
  wide?: boolean;
}

export function Layout({ title, platformName, children, signedInAs, wide }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · ${platformName}`}</title>
        <link rel="stylesheet" href="/static/tessera.css" />
      </head>
      <body>
        <header class="topbar">
          <a class="brand" href="/">{platformName}</a>
          {signedInAs && (
            <form method="post" action="/logout" class="signout">
              <span class="who">{signedInAs.email}</span>
              <input type="hidden" name="_csrf" value={signedInAs.csrfToken} />
              <button type="submit" class="link">Sign out</button>
            </form>
          )}
        </header>
        <main class={wide ? 'card wide' : 'card'}>{children}</main>
      </body>
    </html>
  );
}

export function ErrorMessage({ message }: { message: string | undefined }) {
  return message ? <p class="error" role="alert">{message}</p> : null;
}

/** Several mistakes at once (a form with more than one wrong field): one alert listing them all. */
export function ErrorList({ messages }: { messages: string[] | undefined }) {
  if (!messages?.length) return null;
  if (messages.length === 1) return <ErrorMessage message={messages[0]} />;
  return (
    <div class="error" role="alert">
      <p>Please fix these {messages.length} things:</p>
      <ul>
        {messages.map((message) => (
          <li key={message}>{message}</li>
        ))}
      </ul>
    </div>
  );
}
