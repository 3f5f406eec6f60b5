/** Request parameters as single strings. RFC 6749 §3.1/§3.2: a parameter must not be repeated. */
import { OAuthError } from '../core/oauth/errors.js';

export type Params = Record<string, string | undefined>;

export function singleParams(input: unknown): Params {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new OAuthError('invalid_request', 'the request body must be a form or a JSON object');
  const params: Params = {};
  for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
    if (Array.isArray(value)) throw new OAuthError('invalid_request', `${name} must not be repeated`);
    if (typeof value !== 'string') throw new OAuthError('invalid_request', `${name} must be a string`);
    params[name] = value;
  }
  return params;
}

/** A single-valued form or query field, or '' when it is missing or not a string. */
export function textParam(input: unknown, name: string): string {
  const value = (input as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** The access picker's fields (consent and API keys): what the user chose to share. */
export function narrowingChoice(input: unknown): { accessLevel: string | undefined; organizationIds: string[]; projectIds: string[] } {
  const accessLevel = (input as Record<string, unknown> | undefined)?.access_level;
  return {
    accessLevel: typeof accessLevel === 'string' ? accessLevel : undefined,
    organizationIds: listParam(input, 'organization_ids'),
    projectIds: listParam(input, 'project_ids'),
  };
}

/** A form field that may legitimately repeat (checkboxes), as a list. */
export function listParam(input: unknown, name: string): string[] {
  const value = (input as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.filter((item): item is string => typeof item === 'string' && item.length > 0);
}
