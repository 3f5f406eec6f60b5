import type { Migration } from 'kysely';
import * as foundation from './001_foundation.js';
import * as audit from './002_audit.js';
import * as outboxAndApiKeys from './003_outbox_and_api_keys.js';
import * as oidc from './004_oidc.js';
import * as cimd from './005_cimd.js';
import * as clientLogos from './006_client_logos.js';
import * as platformApi from './007_platform_api.js';
import * as clientAuthMethod from './008_client_auth_method.js';
import * as tokenExpiryIndexes from './009_token_expiry_indexes.js';
import * as locatedTokens from './010_located_tokens.js';
import * as clientGrantTypes from './011_client_grant_types.js';
import * as accountSecurity from './012_account_security.js';
import * as authorizations from './013_authorizations.js';
import * as resourceServers from './014_resource_servers.js';
import * as deviceAuthorizations from './015_device_authorizations.js';
import * as deviceCodeFamilies from './016_device_code_families.js';

/** Every migration, in order. Names are permanent: they are recorded in the database. */
export const migrations: Record<string, Migration> = {
  '001_foundation': foundation,
  '002_audit': audit,
  '003_outbox_and_api_keys': outboxAndApiKeys,
  '004_oidc': oidc,
  '005_cimd': cimd,
  '006_client_logos': clientLogos,
  '007_platform_api': platformApi,
  '008_client_auth_method': clientAuthMethod,
  '009_token_expiry_indexes': tokenExpiryIndexes,
  '010_located_tokens': locatedTokens,
  '011_client_grant_types': clientGrantTypes,
  '012_account_security': accountSecurity,
  '013_authorizations': authorizations,
  '014_resource_servers': resourceServers,
  '015_device_authorizations': deviceAuthorizations,
  '016_device_code_families': deviceCodeFamilies,
};
