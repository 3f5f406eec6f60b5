/**
 * The capabilities built on the core, each a set of routes, discovery metadata and home-page
 * links. The server registers every one; a capability joins by adding itself to `FEATURES`.
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../core/context.js';
import { developerAppsRoutes } from './routes/developer-apps.js';
import { secretScanningRoutes } from './routes/secret-scanning.js';
import { apiKeysRoutes } from './routes/api-keys.js';
import { activityRoutes } from './routes/activity.js';
import { connectedAppsRoutes } from './routes/connected-apps.js';
import { securitySettingsRoutes } from './routes/security-settings.js';
import { oidcRoutes } from './routes/oidc.js';
import { registerRoutes } from './routes/register.js';
import type { MetadataContributor } from '../core/oauth/discovery.js';
import { openIdMetadata } from '../core/oidc/metadata.js';
import { platformApiRoutes } from './routes/platform-api.js';
import { regionFields } from '../platform/regions/fields.js';

export interface Feature {
  name: string;
  routes?(app: FastifyInstance, ctx: Context): Promise<void>;
  metadata?: MetadataContributor;
  homeLinks?: Array<{ href: string; label: string }>;
}

export const FEATURES: Feature[] = [
  { name: 'openid-connect', routes: oidcRoutes, metadata: openIdMetadata },
  { name: 'platform-api', routes: platformApiRoutes },
  { name: 'account-security', routes: securitySettingsRoutes, homeLinks: [{ href: '/settings/security', label: 'Security: two-factor sign-in' }] },
  { name: 'connected-apps', routes: connectedAppsRoutes, homeLinks: [{ href: '/settings/connected-apps', label: 'Connected apps' }] },
  { name: 'personal-api-keys', routes: apiKeysRoutes, homeLinks: [{ href: '/settings/api-keys', label: 'Personal API keys' }] },
  { name: 'secret-scanning', routes: secretScanningRoutes },
  // Client ids that are https URLs are resolved in createRuntime; discovery only announces it.
  { name: 'client-id-metadata-document', metadata: () => ({ client_id_metadata_document_supported: true }) },
  { name: 'dynamic-client-registration', routes: registerRoutes, metadata: (config) => ({ registration_endpoint: `${config.baseUrl}/oauth/register` }) },
  { name: 'developer-apps', routes: developerAppsRoutes, homeLinks: [{ href: '/settings/developers/apps', label: 'Developer apps' }] },
  { name: 'recent-activity', routes: activityRoutes, homeLinks: [{ href: '/settings/activity', label: 'Recent activity' }] },
  // A regional deployment (TESSERA_REGION) names itself; the front (`tessera front`) routes between regions.
  { name: 'regions', metadata: (config) => ({ ...regionFields(config) }) },
];
