/**
 * Self-serve developer apps: clients an organization's owners and admins create, change, rotate
 * and delete themselves. Every change is one transaction with its audit event. Validation errors
 * are RFC 7591 errors (`invalid_client_metadata`, `invalid_redirect_uri`) whose descriptions are
 * written for the person filling in the form.
 */
import { recordAudit, type RequestMeta } from '../../core/audit.js';
import type { Context } from '../../core/context.js';
import type { AppRow, Repositories } from '../../store/index.js';
import type { Organization } from '../../store/schema.js';
import { OAuthError } from '../../core/oauth/errors.js';
import type { GrantType } from '../../core/oauth/grant-types/names.js';
import { applyLoweredCeiling } from '../../core/oauth/authorizations.js';
import { scopeSatisfies } from '../../core/oauth/scopes.js';
import type { OAuthClient } from '../../core/clients/client.js';
import { clientNameProblem, grantTypesProblem, logoUriProblem, normalizeClientName, redirectUrisProblem, scopeCeilingProblem } from '../../core/clients/metadata-rules.js';
import { changeClient, removeClient } from '../../core/clients/admin.js';
import { createClient, rotateClientSecret, toOAuthClient } from '../../core/clients/registered.js';
import { platformScopes } from '../scopes.js';

export const MAX_LOGO_BYTES = 256 * 1024;
const MAX_DESCRIPTION_LENGTH = 500;

type LogoType = 'image/png' | 'image/jpeg' | 'image/webp';

export interface LogoUpload {
  bytes: Buffer;
  /** The Content-Type the browser sent; it must agree with the bytes. */
  declaredType: string;
}

/** What the create and edit forms both set. */
export interface AppSettings {
  name: string;
  description: string;
  redirectUris: string[];
  scopeCeiling: string[];
  /** authorization_code or the device code or both, with or without refresh_token. */
  grantTypes: GrantType[];
  /** An https URL, or '' for none (on edit, '' keeps an uploaded logo). */
  logoUrl: string;
  logoUpload?: LogoUpload | undefined;
  removeLogo?: boolean;
}

export interface NewApp extends AppSettings {
  organizationId: string;
  isPublic: boolean;
}

export interface ManagedApp {
  client: OAuthClient;
  organization: Pick<Organization, 'id' | 'name'>;
  /** The logo is an upload served from /logos, not an external URL. */
  logoUploaded: boolean;
  createdAt: number;
}

const notFound = () => new OAuthError('invalid_request', 'There is no such app, or you cannot manage it.', 404);
const invalid = (description: string) => new OAuthError('invalid_client_metadata', description);

/** True when the user is an owner or admin of the organization. */
export async function canManage(store: Repositories, userId: string, organizationId: string): Promise<boolean> {
  const role = await store.organizations.roleOf(userId, organizationId);
  return role === 'owner' || role === 'admin';
}

/** The organizations in which the user may create and manage apps. */
export function organizationsManagedBy(store: Repositories, userId: string): Promise<Organization[]> {
  return store.organizations.ofUser(userId, ['owner', 'admin']);
}

function toManagedApp(ctx: Context, row: AppRow): ManagedApp {
  const { organization_name, ...client } = row;
  return {
    client: toOAuthClient(client),
    organization: { id: client.organization_id!, name: organization_name },
    logoUploaded: client.logo_uri?.startsWith(logoPathPrefix(ctx)) ?? false,
    createdAt: client.created_at,
  };
}

/** The apps of every organization where the user is an owner or admin. */
export async function listAppsFor(ctx: Context, userId: string): Promise<ManagedApp[]> {
  return (await ctx.store.clients.appsManagedBy(userId)).map((row) => toManagedApp(ctx, row));
}

/** The app, when the user may manage it; otherwise a 404 that does not say whether it exists. */
export async function findManagedApp(ctx: Context, userId: string, clientId: string, store: Repositories = ctx.store): Promise<ManagedApp> {
  const row = await store.clients.appManagedBy(userId, clientId);
  if (!row) throw notFound();
  return toManagedApp(ctx, row);
}

function validateName(name: string, platformName: string): string {
  const problem = clientNameProblem(name, platformName);
  if (problem) throw invalid(`The name ${problem}.`);
  return normalizeClientName(name);
}

function validateRedirectUris(uris: string[], grantTypes: GrantType[]): string[] {
  const found = redirectUrisProblem(uris, grantTypes);
  if (found) throw new OAuthError('invalid_redirect_uri', found.uri === undefined ? `The app ${found.problem}.` : `Redirect URL ${found.uri} ${found.problem}.`);
  return [...new Set(uris)];
}

function validateScopeCeiling(scopes: string[]): string[] {
  const unique = [...new Set(scopes)];
  const problem = scopeCeilingProblem(unique, platformScopes);
  if (problem) throw invalid(`The app ${problem}.`);
  return unique;
}

function validateGrantTypes(grantTypes: GrantType[]): GrantType[] {
  const problem = grantTypesProblem(grantTypes);
  if (problem) throw invalid(`The app's grant types ${problem}.`);
  return [...new Set(grantTypes)];
}

function validateLogoUrl(value: string): string | null {
  if (!value) return null;
  const problem = logoUriProblem(value);
  if (problem) throw invalid(`The logo URL ${problem}.`);
  return value;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The image type the bytes themselves show; SVG is never one of them (it can carry script). */
function detectLogoType(bytes: Buffer): LogoType | undefined {
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return undefined;
}

function validateLogoUpload(upload: LogoUpload): LogoType {
  if (upload.bytes.length > MAX_LOGO_BYTES) throw invalid(`The logo must be at most ${MAX_LOGO_BYTES / 1024} KB.`);
  const detected = detectLogoType(upload.bytes);
  if (!detected || detected !== upload.declaredType.toLowerCase()) throw invalid('The logo must be a PNG, JPEG or WebP image (SVG is not accepted).');
  return detected;
}

interface ValidSettings {
  name: string;
  description: string | null;
  redirectUris: string[];
  scopeCeiling: string[];
  grantTypes: GrantType[];
  logo: { upload: LogoUpload; type: LogoType } | { url: string | null } | 'keep';
}

/**
 * Every mistake in an app's form at once: its description is their sentences joined (for the
 * API), `problems` each sentence (for the form, which lists them all).
 */
export class AppSettingsError extends OAuthError {
  constructor(readonly problems: OAuthError[]) {
    super(problems[0]!.code, problems.map((problem) => problem.description).join(' '));
  }
}

function validateSettings(ctx: Context, settings: AppSettings, hasUploadedLogo: boolean): ValidSettings {
  const problems: OAuthError[] = [];
  const check = <T,>(validate: () => T): T => {
    try {
      return validate();
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      problems.push(error);
      return undefined as T;
    }
  };
  const description = settings.description.trim();
  if (description.length > MAX_DESCRIPTION_LENGTH) problems.push(invalid(`The description must be at most ${MAX_DESCRIPTION_LENGTH} characters.`));
  let logo: ValidSettings['logo'];
  if (settings.logoUpload) logo = { upload: settings.logoUpload, type: check(() => validateLogoUpload(settings.logoUpload!)) };
  else if (settings.removeLogo) logo = { url: null };
  else if (!settings.logoUrl.trim() && hasUploadedLogo) logo = 'keep';
  else logo = { url: check(() => validateLogoUrl(settings.logoUrl.trim())) };
  const valid = {
    name: check(() => validateName(settings.name, ctx.config.platformName)),
    description: description || null,
    redirectUris: check(() => validateRedirectUris(settings.redirectUris, settings.grantTypes)),
    scopeCeiling: check(() => validateScopeCeiling(settings.scopeCeiling)),
    grantTypes: check(() => validateGrantTypes(settings.grantTypes)),
    logo,
  };
  if (problems.length) throw new AppSettingsError(problems);
  return valid;
}

function logoPathPrefix(ctx: Context): string {
  return `${ctx.config.baseUrl}/logos/`;
}

/** Stores or clears the uploaded logo and returns the app's logo_uri (the version busts caches). */
async function applyLogo(ctx: Context, tx: Repositories, clientId: string, logo: ValidSettings['logo'], now: number): Promise<string | null | undefined> {
  if (logo === 'keep') return undefined;
  await tx.clients.replaceLogo(clientId, 'upload' in logo ? { content_type: logo.type, data: logo.upload.bytes.toString('base64'), updated_at: now } : null);
  if (!('upload' in logo)) return logo.url;
  return `${logoPathPrefix(ctx)}${encodeURIComponent(clientId)}?v=${now}`;
}

/** Creates an app; the secret (confidential apps only) is returned here and never again. */
export async function createApp(
  ctx: Context,
  userId: string,
  input: NewApp,
  meta: RequestMeta = {},
): Promise<{ app: OAuthClient; clientSecret: string | undefined }> {
  const now = ctx.now();
  return ctx.store.transaction(async (tx) => {
    if (!(await canManage(tx, userId, input.organizationId))) {
      throw new OAuthError('access_denied', 'Only owners and admins of an organization can create its apps.');
    }
    const settings = validateSettings(ctx, input, false);
    const created = await createClient(
      tx,
      {
        kind: 'app',
        name: settings.name,
        description: settings.description,
        redirectUris: settings.redirectUris,
        isPublic: input.isPublic,
        scopeCeiling: settings.scopeCeiling,
        grantTypes: settings.grantTypes,
        organizationId: input.organizationId,
        createdBy: userId,
      },
      now,
    );
    const logoUri = await applyLogo(ctx, tx, created.client.id, settings.logo, now);
    if (logoUri) await tx.clients.update(created.client.id, { logo_uri: logoUri });
    const detail = { name: settings.name, organization_id: input.organizationId, public: input.isPublic, scope: settings.scopeCeiling.join(' '), grant_types: settings.grantTypes };
    await recordAudit(tx, { type: 'app.created', userId, actor: userId, clientId: created.client.id, ip: meta.ip, detail }, now);
    return { app: { ...created.client, logoUri: logoUri ?? null }, clientSecret: created.clientSecret };
  });
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && new Set([...a, ...b]).size === a.length;

/**
 * What an instance admin vouched for when verifying the app, and which of it an edit changes: the
 * identity users see on the consent page (name, logo), where codes go (redirect URLs), and what it
 * may ask for (scope ceiling). The description is not among them.
 */
function vouchedChanges(before: OAuthClient, after: { name: string; logoUri: string | null; redirectUris: string[]; scopeCeiling: string[] }): string[] {
  const changed: string[] = [];
  if (after.name !== before.name) changed.push('name');
  if (after.logoUri !== before.logoUri) changed.push('logo');
  if (!sameSet(after.redirectUris, before.redirectUris)) changed.push('redirect_uris');
  if (!sameSet(after.scopeCeiling, before.scopeCeiling ?? [])) changed.push('scope');
  return changed;
}

/**
 * Changes an app's name, description, logo, redirect URLs and scope ceiling. A change to what a
 * Verified badge vouched for clears the badge, until an instance admin verifies the app again.
 */
export async function updateApp(ctx: Context, userId: string, clientId: string, input: AppSettings, meta: RequestMeta = {}): Promise<void> {
  const now = ctx.now();
  await changeClient(ctx, clientId, async (tx) => {
    const app = await findManagedApp(ctx, userId, clientId, tx);
    const settings = validateSettings(ctx, input, app.logoUploaded);
    const logoUri = (await applyLogo(ctx, tx, clientId, settings.logo, now)) ?? app.client.logoUri;
    const changed = vouchedChanges(app.client, { ...settings, logoUri });
    const unverified = app.client.verified && changed.length > 0;
    // Scopes the new ceiling no longer allows are taken from what users already granted and hold.
    const removed = (app.client.scopeCeiling ?? []).filter((scope) => !scopeSatisfies(settings.scopeCeiling, scope));
    const scopeLowered = removed.length ? { removed, ...(await applyLoweredCeiling(tx, clientId, settings.scopeCeiling, now)) } : undefined;
    await tx.clients.update(clientId, {
      name: settings.name,
      description: settings.description,
      redirect_uris: JSON.stringify(settings.redirectUris),
      scope_ceiling: settings.scopeCeiling.join(' '),
      grant_types: JSON.stringify(settings.grantTypes),
      logo_uri: logoUri,
      ...(unverified ? { verified: 0 as const } : {}),
      updated_at: now,
    });
    const detail = {
      name: settings.name,
      redirect_uris: settings.redirectUris,
      scope: settings.scopeCeiling.join(' '),
      grant_types: settings.grantTypes,
      logo_changed: changed.includes('logo'),
      ...(scopeLowered ? { scope_lowered: scopeLowered } : {}),
    };
    await recordAudit(tx, { type: 'app.updated', userId, actor: userId, clientId, ip: meta.ip, detail }, now);
    if (unverified) await recordAudit(tx, { type: 'app.unverified', userId, actor: userId, clientId, ip: meta.ip, detail: { changed } }, now);
  });
}

/** Replaces a confidential app's secret: the old one stops working at once, issued tokens stay valid. */
/** The new secret, and the app it belongs to (for the page that shows the secret once). */
export async function rotateAppSecret(ctx: Context, userId: string, clientId: string, meta: RequestMeta = {}): Promise<{ app: ManagedApp; clientSecret: string }> {
  const now = ctx.now();
  return changeClient(ctx, clientId, async (tx) => {
    const app = await findManagedApp(ctx, userId, clientId, tx);
    if (app.client.isPublic) throw new OAuthError('invalid_request', 'A public app has no secret to rotate.');
    const clientSecret = await rotateClientSecret(tx, clientId, now);
    await recordAudit(tx, { type: 'app.secret_rotated', userId, actor: userId, clientId, ip: meta.ip }, now);
    return { app, clientSecret };
  });
}

/** Deletes an app for good (core/clients/admin.ts removeClient), by one of its organization's owners or admins. */
export async function deleteApp(ctx: Context, userId: string, clientId: string, meta: RequestMeta = {}): Promise<void> {
  const now = ctx.now();
  await changeClient(ctx, clientId, async (tx) => {
    const app = await findManagedApp(ctx, userId, clientId, tx);
    const { revokedFamilies, removedAuthorizations } = await removeClient(tx, clientId, now);
    // `removed_grants`: the key app.deleted records have always used (stored records keep their format).
    const detail = { name: app.client.name, organization_id: app.organization.id, revoked_families: revokedFamilies, removed_grants: removedAuthorizations };
    await recordAudit(tx, { type: 'app.deleted', userId, actor: userId, clientId, ip: meta.ip, detail }, now);
    tx.afterCommit(() => ctx.metrics.revoked('app_deleted', revokedFamilies));
  });
}

export interface StoredLogo {
  contentType: string;
  bytes: Buffer;
  updatedAt: number;
}

export async function findLogo(store: Repositories, clientId: string): Promise<StoredLogo | undefined> {
  const row = await store.clients.findLogo(clientId);
  return row && { contentType: row.content_type, bytes: Buffer.from(row.data, 'base64'), updatedAt: row.updated_at };
}
