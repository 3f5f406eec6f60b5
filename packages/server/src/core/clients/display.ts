/**
 * A client's public face: what the consent page shows anyone who opens one of its authorization
 * links (name, logo, whether the operator verified it), under RFC 7591's names and nothing more.
 * The region front asks for it to name the app on its region picker (docs/regions.md).
 */
import type { Repositories } from '../../store/index.js';
import { findRegisteredClient } from './registered.js';

export interface ClientDisplay {
  client_id: string;
  client_name: string;
  logo_uri: string | null;
  verified: boolean;
}

/**
 * Only clients held in this deployment's database are answered: a Client ID Metadata Document
 * client is named by its URL's host, and a public lookup must never make the server fetch a URL.
 */
export async function findClientDisplay(store: Repositories, clientId: string): Promise<ClientDisplay | undefined> {
  const client = await findRegisteredClient(store, clientId);
  return client && { client_id: client.id, client_name: client.name, logo_uri: client.logoUri, verified: client.verified };
}
