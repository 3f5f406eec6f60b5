import type { Migration } from 'kysely';
import * as foundation from './001_foundation.js';
import * as audit from './002_audit.js';
import * as outboxAndApiKeys from './003_outbox_and_api_keys.js';

/** Every migration, in order. Names are permanent: they are recorded in the database. */
export const migrations: Record<string, Migration> = {
  '001_foundation': foundation,
  '002_audit': audit,
  '003_outbox_and_api_keys': outboxAndApiKeys,
};
