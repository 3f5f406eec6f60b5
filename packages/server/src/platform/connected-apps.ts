/**
 * Connected apps: the apps a user has authorized, as the settings page lists them, and revoking
 * one, which ends the user's authorization and every token the app holds for that user.
 */
import { recordAudit, type RequestMeta } from '../core/audit.js';
import type { Context } from '../core/context.js';
import { narrowingOf } from '../core/oauth/narrowing.js';
import { parseScope } from '../core/oauth/scopes.js';
import type { Repositories } from '../store/index.js';
import type { AccessLevel } from '../store/schema.js';

export interface ConnectedApp {
  clientId: string;
  name: string;
  logoUri: string | null;
  verified: boolean;
  scopes: string[];
  accessLevel: AccessLevel;
  organizationIds: string[];
  projectIds: string[];
  grantedAt: number;
  lastUsedAt: number | null;
}

/** A CIMD client has no row of its own; its name comes from its cached metadata document. */
function documentName(document: string | null): string | undefined {
  if (!document) return undefined;
  const name = (JSON.parse(document) as { client_name?: unknown }).client_name;
  return typeof name === 'string' ? name : undefined;
}

export async function listConnectedApps(store: Repositories, userId: string): Promise<ConnectedApp[]> {
  return (await store.authorizations.listForUser(userId)).map((row) => {
    const narrowing = narrowingOf(row);
    return {
      clientId: row.client_id,
      name: row.client_name ?? documentName(row.cimd_document) ?? row.client_id,
      logoUri: row.logo_uri ?? null,
      verified: row.verified === 1,
      scopes: parseScope(row.scope),
      accessLevel: narrowing.accessLevel,
      organizationIds: narrowing.organizationIds,
      projectIds: narrowing.projectIds,
      grantedAt: row.created_at,
      lastUsedAt: row.last_used_at,
    };
  });
}

/** Ends a user's authorization of an app and every token it holds for them; false when there was none. */
export async function revokeConnectedApp(ctx: Context, input: { userId: string; clientId: string }, meta: RequestMeta = {}): Promise<boolean> {
  const now = ctx.now();
  return ctx.store.transaction(async (tx) => {
    const removed = await tx.authorizations.delete(input.userId, input.clientId);
    const families = await tx.tokens.revokeFamiliesOf({ clientId: input.clientId, userId: input.userId }, 'revoked by the user', now);
    if (!removed && families === 0) return false;
    await recordAudit(tx, { type: 'connected_app.revoked', userId: input.userId, actor: input.userId, clientId: input.clientId, ip: meta.ip, detail: { token_families: families } }, now);
    tx.afterCommit(() => ctx.metrics.revoked('user', families));
    return true;
  });
}
