import { Layout } from './layout.js';

export function HomePage({ platformName, email, csrfToken, links }: { platformName: string; email: string; csrfToken: string; links: Array<{ href: string; label: string }> }) {
  return (
    <Layout title="Home" platformName={platformName} signedInAs={{ email, csrfToken }}>
      <h1>Signed in as {email}</h1>
      <ul class="links">
        {links.map((link) => (
          <li key={link.href}>
            <a href={link.href}>{link.label}</a>
          </li>
        ))}
      </ul>
    </Layout>
  );
}
