import type { ComponentChildren } from 'preact';
import { Layout } from '../layout.js';

/** The settings sections; each capability's page names itself with `current`. */
export const SETTINGS_SECTIONS = [
  { href: '/settings/security', label: 'Security' },
  { href: '/settings/connected-apps', label: 'Connected apps' },
  { href: '/settings/api-keys', label: 'Personal API keys' },
  { href: '/settings/developers/apps', label: 'Developers › Apps' },
  { href: '/settings/activity', label: 'Recent activity' },
] as const;

export interface SettingsLayoutProps {
  title: string;
  platformName: string;
  email: string;
  csrfToken: string;
  current: (typeof SETTINGS_SECTIONS)[number]['href'];
  /** A one-line outcome of the last action ("The key was revoked"). */
  notice?: string | undefined;
  children: ComponentChildren;
}

/** What every settings page receives from its route: the layout's own fields. */
export type SettingsPageBase = Pick<SettingsLayoutProps, 'platformName' | 'email' | 'csrfToken'>;

export function SettingsLayout({ title, platformName, email, csrfToken, current, notice, children }: SettingsLayoutProps) {
  return (
    <Layout title={title} platformName={platformName} signedInAs={{ email, csrfToken }} wide>
      <nav class="settings" aria-label="Settings">
        {SETTINGS_SECTIONS.map((section) => (
          <a key={section.href} href={section.href} aria-current={section.href === current ? 'page' : undefined}>
            {section.label}
          </a>
        ))}
      </nav>
      <h1>{title}</h1>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {children}
    </Layout>
  );
}
