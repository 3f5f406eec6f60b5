import { Layout } from './layout.js';

export interface RegionPickerProps {
  platformName: string;
  /** Each region's button: its label, the host it lives at, and the front's link that picks it. */
  regions: Array<{ name: string; label: string; host: string; href: string }>;
  /** The app the user is signing in to, when the front can name it. */
  appName?: string | undefined;
}

export function RegionPickerPage({ platformName, regions, appName }: RegionPickerProps) {
  return (
    <Layout title="Choose your region" platformName={platformName}>
      <h1>Where is your {platformName} account?</h1>
      {appName && (
        <p class="continue-to">
          to continue to <strong>{appName}</strong>
        </p>
      )}
      <p class="muted">Your account and its data live in one region. Choose it to sign in; we will remember your choice on this device.</p>
      <ul class="links regions">
        {regions.map((region) => (
          <li key={region.name}>
            <a href={region.href} data-region={region.name}>{region.label}</a> <span class="host muted">{region.host}</span>
          </li>
        ))}
      </ul>
    </Layout>
  );
}
