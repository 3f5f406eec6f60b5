import { ErrorMessage, Layout } from './layout.js';

/** RFC 8628 §3.3: where the user types the code their device shows. */
export function DeviceCodePage(props: { platformName: string; csrfToken: string; userEmail: string; userCode?: string | undefined; error?: string | undefined }) {
  return (
    <Layout title="Connect a device" platformName={props.platformName} signedInAs={{ email: props.userEmail, csrfToken: props.csrfToken }}>
      <h1>Connect a device</h1>
      <p class="muted">Enter the code shown on the device or in the terminal you are signing in from.</p>
      <ErrorMessage message={props.error} />
      <form method="post" action="/device">
        <input type="hidden" name="_csrf" value={props.csrfToken} />
        <label for="user_code">Code</label>
        <input id="user_code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck={false} required maxLength={32} placeholder="XXXX-XXXX" value={props.userCode ?? ''} />
        <button type="submit" class="primary">Continue</button>
      </form>
    </Layout>
  );
}

/** After the decision: nothing more to do here; the device finds out at its next poll. */
export function DeviceDonePage({ platformName, approved, clientName }: { platformName: string; approved: boolean; clientName: string }) {
  return (
    <Layout title={approved ? 'Device connected' : 'Access denied'} platformName={platformName}>
      <h1>{approved ? 'Device connected' : 'Access denied'}</h1>
      <p role="status">{approved ? `${clientName} is now signed in. Return to your device.` : `${clientName} was not given access. You can close this window.`}</p>
    </Layout>
  );
}
