import type { Membership } from '../../core/oauth/narrowing.js';
import type { Registrant } from '../../platform/client-registrant.js';
import { AccessPicker, type AccessChoice } from './access-picker.js';
import { AppLogo } from './app-logo.js';
import { Layout } from './layout.js';

export interface ConsentPageProps {
  platformName: string;
  csrfToken: string;
  userEmail: string;
  client: {
    name: string;
    logoUri: string | null;
    verified: boolean;
  };
  registrant: Registrant;
  redirectHost: string;
  localhostOnly: boolean;
  scopes: Array<{ scope: string; description: string }>;
  /** The authorization request, carried through the form and validated again on submit. */
  request: Record<string, string>;
  memberships: Membership[];
  /** The resource server the access is for, when it is not the platform API. */
  resource: { name: string; host: string } | undefined;
  requiredAccessLevel: 'organization' | 'project' | undefined;
  projectHint: string | undefined;
  /** A refused submission: why (shown next to the access choice) and what the user chose. */
  error?: string | undefined;
  /** The device authorization grant (RFC 8628): the request came from a code typed in, not a redirect. */
  fromAnotherDevice?: boolean | undefined;
  choice?: AccessChoice | undefined;
}

/** Who stands behind the app, in one line under its name. */
function RegistrantLine({ registrant, verified, platformName }: { registrant: Registrant; verified: boolean; platformName: string }) {
  if (registrant.kind === 'organization') {
    return (
      <p class="registrant">
        Registered by the organization <strong>{registrant.name}</strong>
      </p>
    );
  }
  if (registrant.kind === 'operator') return <p class="registrant">Registered by {platformName}</p>;
  return (
    <p class="registrant">
      {!verified && <span class="badge unverified">Unverified</span>} Registered itself
      {registrant.host === undefined ? ', naming no web address' : <> from <strong class="host">{registrant.host}</strong></>}
      {verified ? '.' : `; ${platformName} has not checked who runs it.`}
    </p>
  );
}

export function ConsentPage(props: ConsentPageProps) {
  const { client, memberships, requiredAccessLevel, projectHint } = props;
  const platformName = props.platformName;
  return (
    <Layout title={`Authorize ${client.name}`} platformName={props.platformName} signedInAs={{ email: props.userEmail, csrfToken: props.csrfToken }}>
      <div class="app-identity">
        <AppLogo name={client.name} logoUri={client.logoUri} size={48} />
        <div class="app-identity-text">
          <h1>
            {client.name} wants to access your {platformName} account
            {client.verified && <span class="badge verified" title={`Verified by ${platformName}`}>Verified</span>}
          </h1>
          <RegistrantLine registrant={props.registrant} verified={client.verified} platformName={platformName} />
          {props.resource && (
            <p class="resource">
              Access for <strong>{props.resource.name}</strong> at <strong class="host">{props.resource.host}</strong>
            </p>
          )}
          {!props.fromAnotherDevice && (
            <p class="muted">
              You will be sent back to <strong class="host">{props.redirectHost}</strong> after you decide.
            </p>
          )}
        </div>
      </div>
      {props.localhostOnly && (
        <p class="warning" role="alert">
          This application only redirects to your own computer (localhost). Continue only if you started it yourself.
        </p>
      )}
      {props.fromAnotherDevice && (
        <p class="warning" role="alert">
          You entered a code from another device: {client.name} on that device will be signed in to your account. Continue only if you started this sign-in yourself and the code came
          from your own device, never if someone sent or read it to you.
        </p>
      )}
      <form method="post" action={props.fromAnotherDevice ? '/device' : '/oauth/authorize'}>
        <input type="hidden" name="_csrf" value={props.csrfToken} />
        {Object.entries(props.request).map(([name, value]) => (
          <input key={name} type="hidden" name={name} value={value} />
        ))}
        <h2>It will be able to</h2>
        <ul class="scopes">
          {props.scopes.map(({ scope, description }) => (
            <li key={scope}>
              {description} <code>{scope}</code>
            </li>
          ))}
        </ul>
        <AccessPicker memberships={memberships} requiredAccessLevel={requiredAccessLevel} projectHint={projectHint} choice={props.choice} error={props.error} />
        <div class="actions">
          <button type="submit" name="decision" value="deny" class="secondary">
            Deny
          </button>
          <button type="submit" name="decision" value="allow" class="primary">
            Authorize
          </button>
        </div>
      </form>
    </Layout>
  );
}
