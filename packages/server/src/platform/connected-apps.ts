/**
 * Connected apps: the apps a user has authorized, as the settings page lists them, and revoking
 * one, which ends the user's grant and every token the app holds for that user.
 */
import type { Kysely } from 'kysely';
import { recordAudit, type RequestMeta } from '../core/audit.js';
import type { AccessLevel, Database } from '../store/schema.js';
import { narrowingOf } from '../core/oauth/authorizations.js';
import { parseScope } from '../core/oauth/scopes.js';
import { revokeFamiliesOf } from '../core/oauth/tokens.js';

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

export async function listConnectedApps(db: Kysely<Database>, userId: string): Promise<ConnectedApp[]> {
  const rows = await db
    .selectFrom('grants')
    .leftJoin('clients', 'clients.id', 'grants.client_id')
    .leftJoin('cimd_documents', 'cimd_documents.client_id', 'grants.client_id')
    .selectAll('grants')
    .select(['clients.name as client_name', 'clients.logo_uri', 'clients.verified', 'cimd_documents.document'])
    .where('grants.user_id', '=', userId)
    .orderBy('grants.created_at', 'desc')
    .execute();
  return rows.map((row) => {
    const narrowing = narrowingOf(row);
    return {
      clientId: row.client_id,
      name: row.client_name ?? documentName(row.document) ?? row.client_id,
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

/** Ends a user's grant to an app and every token it holds for them; undefined when there was none, else how many token families were revoked. */
export async function revokeConnectedApp(db: Kysely<Database>, input: { userId: string; clientId: string }, now: number, meta: RequestMeta = {}): Promise<{ revokedFamilies: number } | undefined> {
  return db.transaction().execute(async (trx) => {
    const removed = await trx.deleteFrom('grants').where('user_id', '=', input.userId).where('client_id', '=', input.clientId).executeTakeFirst();
    const families = await revokeFamiliesOf(trx, { clientId: input.clientId, userId: input.userId }, 'revoked by the user', now);
    if (removed.numDeletedRows === 0n && families === 0) return undefined;
    await recordAudit(trx, { type: 'connected_app.revoked', userId: input.userId, actor: input.userId, clientId: input.clientId, ip: meta.ip, detail: { token_families: families } }, now);
    return { revokedFamilies: families };
  });
}
