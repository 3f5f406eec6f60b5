import type { Membership } from '../../core/oauth/narrowing.js';
import { AccessPicker } from './access-picker.js';
import { ErrorMessage, Layout } from './layout.js';

export interface ConsentPageProps {
  platformName: string;
  csrfToken: string;
  userEmail: string;
  client: {
    name: string;
    logoUri: string | null;
    verified: boolean;
    /** For a CIMD client, the host of its client id URL: the domain is its identity. */
    identityHost: string | undefined;
  };
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
  error?: string | undefined;
  /** The device authorization grant (RFC 8628): the request came from a code typed in, not a redirect. */
  fromAnotherDevice?: boolean | undefined;
}

export function ConsentPage(props: ConsentPageProps) {
  const { client, memberships, requiredAccessLevel, projectHint } = props;
  return (
    <Layout title={`Authorize ${client.name}`} platformName={props.platformName} signedInAs={{ email: props.userEmail, csrfToken: props.csrfToken }}>
      <div class="app-identity">
        {client.logoUri && <img class="logo" src={client.logoUri} alt="" width={48} height={48} referrerpolicy="no-referrer" />}
        <div>
          <h1>
            {client.name} wants to access your {props.platformName} account
            {client.verified && <span class="badge verified" title={`Verified by ${props.platformName}`}>Verified</span>}
          </h1>
          {client.identityHost && (
            <p class="identity">
              Client identity: <strong class="host">{client.identityHost}</strong>
            </p>
          )}
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
      <ErrorMessage message={props.error} />
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
        <AccessPicker memberships={memberships} requiredAccessLevel={requiredAccessLevel} projectHint={projectHint} />
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
