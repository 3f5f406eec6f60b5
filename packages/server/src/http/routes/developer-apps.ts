/**
 * Settings › Developers › Apps, and GET /logos/:clientId. The create and edit forms are
 * multipart (they carry a logo); a hook in this plugin reads them into the same flat body shape
 * formbody gives, so the global CSRF check finds `_csrf` where it always does.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PlatformContext } from '../../platform/context.js';
import {
  createApp,
  deleteApp,
  findLogo,
  findManagedApp,
  listAppsFor,
  MAX_LOGO_BYTES,
  organizationsManagedBy,
  rotateAppSecret,
  updateApp,
  type AppSettings,
  type LogoUpload,
} from '../../platform/developer-apps/apps.js';
import { OAuthError } from '../../core/oauth/errors.js';
import { DEVICE_CODE_GRANT_TYPE, type GrantType } from '../../core/oauth/grant-types/names.js';
import { AppSettingsError } from '../../platform/developer-apps/apps.js';
import { ErrorPage } from '../pages/error.js';
import { sendPage } from '../pages/render.js';
import {
  appFormValues,
  appPath,
  AppSecretPage,
  DeleteAppPage,
  DeveloperAppsPage,
  EditAppPage,
  EMPTY_APP_FORM,
  NewAppPage,
  type AppFormValues,
  type AppSignIn,
} from '../pages/settings/developer-apps.js';
import { textParam } from '../params.js';
import { requireSession, settingsPageBase } from '../settings.js';

const BASE = '/settings/developers/apps';

type Form = Record<string, string | string[] | LogoUpload | undefined>;

const list = (form: Form, name: string): string[] => [form[name]].flat().filter((value): value is string => typeof value === 'string');
const logoUpload = (form: Form): LogoUpload | undefined => (typeof form.logo === 'object' && !Array.isArray(form.logo) ? form.logo : undefined);

/** Reads a multipart form into a flat body: repeated fields become arrays, the logo file a LogoUpload. */
async function readMultipartForm(request: FastifyRequest): Promise<void> {
  if (!request.isMultipart()) return;
  const form: Record<string, string | string[] | LogoUpload> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      // The limit is one byte over the maximum, so a truncated file is recognizably too large.
      const bytes = await part.toBuffer();
      // An empty file input still sends a part, with no bytes.
      if (part.fieldname === 'logo' && bytes.length > 0) form.logo = { bytes, declaredType: part.mimetype };
      continue;
    }
    if (part.valueTruncated) throw new OAuthError('invalid_request', `the field ${part.fieldname} is too long`, 413);
    const value = String(part.value);
    const previous = form[part.fieldname];
    if (typeof previous === 'string') form[part.fieldname] = [previous, value];
    else if (Array.isArray(previous)) previous.push(value);
    else form[part.fieldname] = value;
  }
  request.body = form;
}

function formValues(form: Form): AppFormValues {
  return {
    organizationId: textParam(form, 'organization_id'),
    name: textParam(form, 'name'),
    description: textParam(form, 'description'),
    redirectUris: textParam(form, 'redirect_uris'),
    logoUrl: textParam(form, 'logo_url'),
    scopes: list(form, 'scope'),
    isPublic: textParam(form, 'client_type') === 'public',
    // Refresh tokens unless the form turns them off.
    refreshTokens: textParam(form, 'refresh_tokens') !== 'off',
    // The code flow unless the form chooses device sign-in.
    signIn: signInParam(textParam(form, 'sign_in')),
  };
}

const signInParam = (value: string): AppSignIn => (value === 'browser_and_device' || value === 'device' ? value : 'browser');

/** The grant types the form chose: the code flow, device sign-in or both, and refresh tokens or not. */
function grantTypesOf(values: AppFormValues): GrantType[] {
  const grantTypes: GrantType[] = [];
  if (values.signIn !== 'device') grantTypes.push('authorization_code');
  if (values.refreshTokens) grantTypes.push('refresh_token');
  if (values.signIn !== 'browser') grantTypes.push(DEVICE_CODE_GRANT_TYPE);
  return grantTypes;
}

function appSettings(form: Form): AppSettings {
  const values = formValues(form);
  return {
    name: values.name,
    description: values.description,
    redirectUris: values.redirectUris.split(/\r?\n/).map((line) => line.trim()).filter(Boolean),
    scopeCeiling: values.scopes,
    grantTypes: grantTypesOf(values),
    logoUrl: values.logoUrl,
    logoUpload: logoUpload(form),
    removeLogo: textParam(form, 'remove_logo') === '1',
  };
}

/** A mistake in the form (shown on the form again), as opposed to a missing app or permission. */
const isFormError = (error: unknown): error is OAuthError => error instanceof OAuthError && error.status === 400;

/** Each sentence to show above the form: all of a form's mistakes at once. */
const formErrors = (error: OAuthError): string[] => (error instanceof AppSettingsError ? error.problems.map((problem) => problem.description) : [error.description]);

export async function developerAppsRoutes(app: FastifyInstance, ctx: PlatformContext): Promise<void> {
  const { platformName } = ctx.config;
  const meta = (request: FastifyRequest) => ({ ip: request.ip });
  const clientIdOf = (request: FastifyRequest) => (request.params as { clientId: string }).clientId;

  // Encapsulated: multipart parsing exists only for these routes.
  await app.register(async (scope) => {
    await scope.register(multipart, {
      throwFileSizeLimit: false,
      limits: { fileSize: MAX_LOGO_BYTES + 1, files: 1, fields: 64, parts: 65, fieldSize: 16 * 1024 },
    });
    scope.addHook('preValidation', readMultipartForm);
    scope.setErrorHandler((error, _request, reply) => {
      if (!(error instanceof OAuthError) || (error.status !== 403 && error.status !== 404)) throw error;
      const title = error.status === 404 ? 'Not found' : 'Not allowed';
      return sendPage(reply, ErrorPage({ platformName, title, message: error.description }), error.status);
    });

    scope.get(BASE, async (request, reply) => {
      const session = await requireSession(ctx, request, reply);
      if (!session) return reply;
      const [apps, organizations] = await Promise.all([listAppsFor(ctx, session.user.id), organizationsManagedBy(ctx.store, session.user.id)]);
      const notice = (request.query as Form).deleted === '1' ? 'The app was deleted.' : undefined;
      return sendPage(reply, DeveloperAppsPage({ ...settingsPageBase(ctx, session, reply), apps, canCreate: organizations.length > 0, notice }));
    });

    scope.get(`${BASE}/new`, async (request, reply) => {
      const session = await requireSession(ctx, request, reply);
      if (!session) return reply;
      const organizations = await organizationsManagedBy(ctx.store, session.user.id);
      if (organizations.length === 0) throw new OAuthError('access_denied', 'Only owners and admins of an organization can create apps for it.');
      return sendPage(reply, NewAppPage({ ...settingsPageBase(ctx, session, reply), organizations, values: EMPTY_APP_FORM }));
    });

    scope.post(BASE, { preHandler: scope.csrfProtection }, async (request, reply) => {
      const session = await requireSession(ctx, request, reply);
      if (!session) return reply;
      const form = request.body as Form;
      const values = formValues(form);
      try {
        const created = await createApp(ctx, session.user.id, { ...appSettings(form), organizationId: values.organizationId, isPublic: values.isPublic }, meta(request));
        const page = AppSecretPage({ ...settingsPageBase(ctx, session, reply), appName: created.app.name, clientId: created.app.id, clientSecret: created.clientSecret, created: true });
        return sendPage(reply, page, 201);
      } catch (error) {
        if (!isFormError(error)) throw error;
        const organizations = await organizationsManagedBy(ctx.store, session.user.id);
        return sendPage(reply, NewAppPage({ ...settingsPageBase(ctx, session, reply), organizations, values, errors: formErrors(error) }), 400);
      }
    });

    scope.get(`${BASE}/:clientId`, async (request, reply) => {
      const session = await requireSession(ctx, request, reply);
      if (!session) return reply;
      const managed = await findManagedApp(ctx, session.user.id, clientIdOf(request));
      const notice = (request.query as Form).saved === '1' ? 'Changes saved.' : undefined;
      return sendPage(reply, EditAppPage({ ...settingsPageBase(ctx, session, reply), app: managed, values: appFormValues(managed), notice }));
    });

    scope.post(`${BASE}/:clientId`, { preHandler: scope.csrfProtection }, async (request, reply) => {
      const session = await requireSession(ctx, request, reply);
      if (!session) return reply;
      const clientId = clientIdOf(request);
      const form = request.body as Form;
      try {
        await updateApp(ctx, session.user.id, clientId, appSettings(form), meta(request));
        return reply.redirect(`${appPath(clientId)}?saved=1`, 303);
      } catch (error) {
        if (!isFormError(error)) throw error;
        const managed = await findManagedApp(ctx, session.user.id, clientId);
        const values = { ...formValues(form), organizationId: managed.organization.id, isPublic: managed.client.isPublic };
        return sendPage(reply, EditAppPage({ ...settingsPageBase(ctx, session, reply), app: managed, values, errors: formErrors(error) }), 400);
      }
    });

    scope.post(`${BASE}/:clientId/secret`, { preHandler: scope.csrfProtection }, async (request, reply) => {
      const session = await requireSession(ctx, request, reply);
      if (!session) return reply;
      const clientId = clientIdOf(request);
      const { app: managed, clientSecret } = await rotateAppSecret(ctx, session.user.id, clientId, meta(request));
      return sendPage(reply, AppSecretPage({ ...settingsPageBase(ctx, session, reply), appName: managed.client.name, clientId, clientSecret, created: false }));
    });

    scope.get(`${BASE}/:clientId/delete`, async (request, reply) => {
      const session = await requireSession(ctx, request, reply);
      if (!session) return reply;
      const managed = await findManagedApp(ctx, session.user.id, clientIdOf(request));
      return sendPage(reply, DeleteAppPage({ ...settingsPageBase(ctx, session, reply), app: managed }));
    });

    scope.post(`${BASE}/:clientId/delete`, { preHandler: scope.csrfProtection }, async (request, reply) => {
      const session = await requireSession(ctx, request, reply);
      if (!session) return reply;
      const managed = await findManagedApp(ctx, session.user.id, clientIdOf(request));
      if (textParam(request.body as Form, 'confirm_name').trim() !== managed.client.name) {
        const error = `Type the app's name, ${managed.client.name}, exactly to confirm.`;
        return sendPage(reply, DeleteAppPage({ ...settingsPageBase(ctx, session, reply), app: managed, error }), 400);
      }
      await deleteApp(ctx, session.user.id, managed.client.id, meta(request));
      return reply.redirect(`${BASE}?deleted=1`, 303);
    });
  });

  app.get('/logos/:clientId', async (request, reply) => {
    const logo = await findLogo(ctx.store, clientIdOf(request));
    if (!logo) return reply.status(404).header('cache-control', 'no-store').send();
    return reply
      .header('content-type', logo.contentType)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'")
      .header('content-disposition', 'inline')
      .header('cache-control', 'public, max-age=86400')
      .header('last-modified', new Date(logo.updatedAt).toUTCString())
      .send(logo.bytes);
  });
}
