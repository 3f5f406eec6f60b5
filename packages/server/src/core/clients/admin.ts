/**
 * What an instance's operator does to registered clients (the `tessera client` and `app`
 * commands): list them, look at one, mark one verified, replace its secret, delete it. Every kind
 * with a row qualifies (`client create`, developer apps, dynamic registrations); a metadata
 * document client has no registration here, and each refusal says so in a sentence.
 */
import type { Client } from '../../store/schema.js';
import type { Repositories, TransactionWork } from '../../store/index.js';
import { recordAudit } from '../audit.js';
import type { Context } from '../context.js';
import { OAuthError } from '../oauth/errors.js';
import type { OAuthClient } from './client.js';
import { rotateClientSecret, toOAuthClient } from './registered.js';

/** A registered client with what the operator needs beside the protocol's view of it. */
export interface RegisteredClient extends OAuthClient {
  organizationId: string | null;
  createdAt: number;
  updatedAt: number;
}

function toRegisteredClient(row: Client): RegisteredClient {
  return { ...toOAuthClient(row), organizationId: row.organization_id, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** Why there is nothing to act on: a metadata document URL, or an id nobody registered. */
function noSuchClient(clientId: string): OAuthError {
  const message = clientId.startsWith('https://')
    ? `${clientId} is a Client ID Metadata Document client: it is not registered here (its document at that URL describes it), so there is nothing to change. Block it with \`tessera cimd block\` if needed.`
    : `There is no registered client ${clientId}.`;
  return new OAuthError('invalid_request', message, 404);
}

export async function listRegisteredClients(store: Repositories): Promise<RegisteredClient[]> {
  return (await store.clients.list()).map(toRegisteredClient);
}

export async function findRegisteredClientOrFail(store: Repositories, clientId: string): Promise<RegisteredClient> {
  const row = await store.clients.find(clientId);
  if (!row) throw noSuchClient(clientId);
  return toRegisteredClient(row);
}

/** Runs a change to a client's row, then has this instance read the client afresh. */
export async function changeClient<T>(ctx: Context, clientId: string, change: TransactionWork<T>): Promise<T> {
  try {
    return await ctx.store.transaction(change);
  } finally {
    ctx.clients.forget(clientId);
  }
}

/** The instance admin's mark that the platform vouches for a client (a badge on the consent page). */
export function setClientVerified(ctx: Context, clientId: string, verified: boolean, actor: string): Promise<OAuthClient> {
  const now = ctx.now();
  return changeClient(ctx, clientId, async (tx) => {
    const row = await tx.clients.setVerified(clientId, verified, now);
    if (!row) throw noSuchClient(clientId);
    await recordAudit(tx, { type: verified ? 'app.verified' : 'app.unverified', userId: null, actor, clientId }, now);
    return toOAuthClient(row);
  });
}

/** Replaces a confidential client's secret: the old one stops working at once; issued tokens stay valid. */
export function rotateRegisteredClientSecret(ctx: Context, clientId: string, actor: string): Promise<{ client: OAuthClient; clientSecret: string }> {
  const now = ctx.now();
  return changeClient(ctx, clientId, async (tx) => {
    const row = await tx.clients.find(clientId);
    if (!row) throw noSuchClient(clientId);
    if (row.is_public === 1) throw new OAuthError('invalid_request', `${clientId} is a public client: it has no secret to rotate.`);
    const clientSecret = await rotateClientSecret(tx, clientId, now);
    await recordAudit(tx, { type: 'client.secret_rotated', userId: null, actor, clientId }, now);
    return { client: toOAuthClient(row), clientSecret };
  });
}

/** What deleting a client took away. */
export interface RemovedClient {
  revokedFamilies: number;
  removedAuthorizations: number;
}

/**
 * Deletes a client for good inside `tx`: revokes every token family, removes every user's
 * authorization (so it leaves their connected apps) and pending codes, and deletes the row (its
 * logo goes with it), so the id can never authenticate again.
 */
export async function removeClient(tx: Repositories, clientId: string, now: number): Promise<RemovedClient> {
  const revokedFamilies = await tx.tokens.revokeFamiliesOf({ clientId }, 'app_deleted', now);
  const removedAuthorizations = await tx.authorizations.deleteAllOf(clientId);
  await tx.tokens.deleteCodesOf(clientId);
  await tx.clients.delete(clientId);
  return { revokedFamilies, removedAuthorizations };
}

/** The operator deletes any registered client (a developer app's owners delete theirs in Settings). */
export function deleteRegisteredClient(ctx: Context, clientId: string, actor: string): Promise<{ client: OAuthClient } & RemovedClient> {
  const now = ctx.now();
  return changeClient(ctx, clientId, async (tx) => {
    const row = await tx.clients.find(clientId);
    if (!row) throw noSuchClient(clientId);
    const removed = await removeClient(tx, clientId, now);
    const detail = { name: row.name, kind: row.kind, revoked_families: removed.revokedFamilies, removed_authorizations: removed.removedAuthorizations };
    await recordAudit(tx, { type: 'client.deleted', userId: null, actor, clientId, detail }, now);
    tx.afterCommit(() => ctx.metrics.revoked('app_deleted', removed.revokedFamilies));
    return { client: toOAuthClient(row), ...removed };
  });
}
