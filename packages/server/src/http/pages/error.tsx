import { Layout } from './layout.js';

export function ErrorPage({ platformName, title, message }: { platformName: string; title: string; message: string }) {
  return (
    <Layout title={title} platformName={platformName}>
      <h1>{title}</h1>
      <p role="alert">{message}</p>
      <p class="muted">You can close this window and return to the application.</p>
    </Layout>
  );
}
