/**
 * Who registered a client, as the consent page tells the user: the organization that owns a
 * developer app, the platform's operator for a client made with `tessera client create`, and for
 * a client that registered itself (dynamic registration, a metadata document) only the host it
 * stands on (none for a dynamic registration of the device grant alone, which has no redirect
 * URI), unverified unless an instance admin vouched for it.
 */
import type { OAuthClient } from '../core/clients/client.js';
import type { Repositories } from '../store/index.js';

export type Registrant =
  | { kind: 'organization'; name: string }
  | { kind: 'operator' }
  | { kind: 'self-registered'; host: string | undefined };

export async function clientRegistrant(store: Repositories, client: OAuthClient): Promise<Registrant> {
  if (client.kind === 'cimd') return { kind: 'self-registered', host: new URL(client.id).host };
  if (client.kind === 'dynamic') {
    const [firstRedirect] = client.redirectUris;
    return { kind: 'self-registered', host: firstRedirect === undefined ? undefined : redirectHost(firstRedirect) };
  }
  if (client.kind === 'registered') return { kind: 'operator' };
  const row = await store.clients.find(client.id);
  const organization = row?.organization_id ? await store.organizations.find(row.organization_id) : undefined;
  return organization ? { kind: 'organization', name: organization.name } : { kind: 'operator' };
}

/** The host a redirect URI goes to; for a private-use scheme (`com.example.app:/cb`), the scheme. */
function redirectHost(uri: string): string {
  const url = new URL(uri);
  return url.host || url.protocol.slice(0, -1);
}
