import type { AppIdentity } from '../../platform/regions/app-identity.js';
import { AppLogo } from './app-logo.js';
import { Layout } from './layout.js';

export interface RegionPickerProps {
  platformName: string;
  /** Each region's button: its label, the host it lives at, and the front's link that picks it. */
  regions: Array<{ name: string; label: string; host: string; href: string }>;
  /** The app the user is signing in to, when some region could name it in time. */
  app?: AppIdentity | undefined;
}

export function RegionPickerPage({ platformName, regions, app }: RegionPickerProps) {
  return (
    <Layout title="Choose your region" platformName={platformName}>
      {app && (
        <div class="app-identity signing-in-to">
          <AppLogo name={app.name} logoUri={app.logoUri} size={48} />
          <p class="continue-to">
            Sign in to continue to <strong>{app.name}</strong>
            {app.verified && <span class="badge verified" title={`Verified by ${platformName}`}>Verified</span>}
          </p>
        </div>
      )}
      <h1>Where is your {platformName} account?</h1>
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
