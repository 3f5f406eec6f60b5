/**
 * The tables, as Kysely sees them. One schema for SQLite and PostgreSQL: times are epoch
 * milliseconds (bigint in PostgreSQL, parsed to number), booleans are 0/1 integers, lists are
 * JSON text. Tokens, codes, sessions and secrets appear only as SHA-256 hex hashes.
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export type Bool = 0 | 1;
export type AccessLevel = 'all' | 'organization' | 'project';
export type MemberRole = 'owner' | 'admin' | 'member';
export type ClientKind = 'registered' | 'app' | 'dynamic' | 'cimd';

export interface UsersTable {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  email_verified: Bool;
  is_admin: Bool;
  created_at: number;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  /** When the user last proved who they are (password); OIDC auth_time. */
  auth_time: number;
  /** How they proved it: space-separated RFC 8176 methods, `pwd` or `pwd otp`. */
  amr: string;
  created_at: number;
  expires_at: number;
}

export interface OrganizationsTable {
  id: string;
  name: string;
  created_at: number;
  /** Set by an owner: apps may read this organization's data only for a two-factor sign-in. */
  require_two_factor: Generated<Bool>;
}

export interface MembershipsTable {
  organization_id: string;
  user_id: string;
  role: MemberRole;
  created_at: number;
}

export interface ProjectsTable {
  id: string;
  organization_id: string;
  name: string;
  created_at: number;
}

export interface ClientsTable {
  id: string;
  kind: ClientKind;
  name: string;
  description: string | null;
  logo_uri: string | null;
  /** JSON array of exact redirect URIs. */
  redirect_uris: string;
  is_public: Bool;
  secret_hash: string | null;
  /** Space-separated scope ceiling; null means every scope in the registry. */
  scope_ceiling: string | null;
  /** The organization that owns a self-serve app. */
  organization_id: string | null;
  created_by: string | null;
  verified: Bool;
  access_token_ttl: number | null;
  refresh_token_ttl: number | null;
  /** RS256 (the OpenID Connect default) or ES256; null means RS256. */
  id_token_signed_response_alg: string | null;
  /** Dynamic registrations only: the one method the client may authenticate with; null means any. */
  token_endpoint_auth_method: string | null;
  /** JSON array of the grant types the client may use (RFC 7591 §2); by default authorization_code and refresh_token. */
  grant_types: Generated<string>;
  created_at: number;
  updated_at: number;
}

/** A user's consent to a client (an authorization): the scopes and the organization/project narrowing. */
export interface AuthorizationsTable {
  id: string;
  user_id: string;
  client_id: string;
  scope: string;
  access_level: AccessLevel;
  /** JSON arrays; empty unless access_level narrows to them. */
  organization_ids: string;
  project_ids: string;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
}

export interface AuthorizationCodesTable {
  code_hash: string;
  client_id: string;
  user_id: string;
  authorization_id: string;
  /** The family every token redeemed from this code joins, so a replay can revoke them. */
  family_id: string;
  redirect_uri: string;
  code_challenge: string;
  scope: string;
  resource: string | null;
  nonce: string | null;
  auth_time: number;
  /** The session's authentication methods (space-separated); null for codes from before migration 012 (`pwd`). */
  amr: string | null;
  /** The acr value to put in ID tokens, when the request asked for one (acr_values or claims). */
  acr: string | null;
  expires_at: number;
  consumed_at: number | null;
  created_at: number;
}

/** A device authorization request (RFC 8628) and the user's decision on it. */
export interface DeviceAuthorizationsTable {
  device_code_hash: string;
  /** HMAC of the normalized user code under TESSERA_SECRET_KEY (core/oauth/device/user-code.ts). */
  user_code_hash: string;
  client_id: string;
  scope: string;
  resource: string | null;
  status: DeviceAuthorizationStatus;
  user_id: string | null;
  authorization_id: string | null;
  auth_time: number | null;
  amr: string | null;
  interval_seconds: number;
  last_polled_at: number | null;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  consumed_at: number | null;
  /** The token family issued when the device code was redeemed (migration 016). */
  family_id: string | null;
}

export type DeviceAuthorizationStatus = 'pending' | 'approved' | 'denied';

/** Everything issued from one authorization code: its access and rotating refresh tokens. */
export interface TokenFamiliesTable {
  id: string;
  user_id: string;
  client_id: string;
  authorization_id: string;
  scope: string;
  access_level: AccessLevel;
  organization_ids: string;
  project_ids: string;
  resource: string | null;
  auth_time: number;
  /** As on the authorization code: how the user signed in, and the acr for ID tokens if asked for. */
  amr: string | null;
  acr: string | null;
  created_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
}

export interface AccessTokensTable {
  /** The token's locator (or, for a token issued before migration 010, its hash). */
  id: string;
  token_hash: string;
  family_id: string;
  scope: string;
  expires_at: number;
  created_at: number;
  revoked_at: number | null;
}

export interface RefreshTokensTable {
  /** The token's locator (or, for a token issued before migration 010, its hash). */
  id: string;
  token_hash: string;
  family_id: string;
  expires_at: number;
  created_at: number;
  /** Set once, atomically, by the request that rotates this token. */
  rotated_at: number | null;
  /** The row id of the refresh token this one was rotated into. */
  successor_id: string | null;
  /**
   * The token response this token was issued in, sealed with a key only the token it replaced
   * derives, so that a retry of that token within the grace window gets the same answer.
   */
  response_sealed: string | null;
  revoked_at: number | null;
}

export interface AuditEventsTable {
  id: string;
  at: number;
  type: string;
  user_id: string | null;
  actor: string;
  client_id: string | null;
  ip: string | null;
  /** JSON object; never holds a token, secret or password. */
  detail: string;
}

export interface OutboxTable {
  id: string;
  to_address: string;
  subject: string;
  body: string;
  created_at: number;
  sent_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  key_hash: string;
  user_id: string;
  label: string;
  mask: string;
  scope: string;
  access_level: AccessLevel;
  organization_ids: string;
  project_ids: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk_sealed: string;
  created_at: number;
  signs_from: number;
}

export interface EmailVerificationsTable {
  token_hash: string;
  user_id: string;
  email: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** A sign-up waiting for its address to be confirmed; the account is created when the link is followed. */
export interface SignupRequestsTable {
  token_hash: string;
  email: string;
  name: string | null;
  password_hash: string;
  /** Where to go once the account exists (a same-site path checked by safeReturnTo). */
  return_to: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface PasswordResetsTable {
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** A user's TOTP authenticator (RFC 6238); confirmed once the first code was right. */
export interface TwoFactorTable {
  user_id: string;
  secret_sealed: string;
  confirmed_at: number | null;
  last_used_step: number | null;
  created_at: number;
}

export interface RecoveryCodesTable {
  user_id: string;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

/** Between a right password and the second factor: no session exists yet. */
export interface PendingSignInsTable {
  id_hash: string;
  user_id: string;
  attempts: number;
  created_at: number;
  expires_at: number;
}

/** A fetched, validated Client ID Metadata Document, shared by every instance. */
export interface CimdDocumentsTable {
  client_id: string;
  /** JSON object. */
  document: string;
  fetched_at: number;
  expires_at: number;
}

/** A client id URL, or a domain with its subdomains, that an instance admin refused. */
export interface CimdBlocklistTable {
  pattern: string;
  reason: string | null;
  created_at: number;
}

/** An uploaded app logo; the bytes are base64 text, portable across SQLite and PostgreSQL. */
export interface ClientLogosTable {
  client_id: string;
  content_type: string;
  data: string;
  updated_at: number;
}

export interface AnnotationsTable {
  id: string;
  project_id: string;
  content: string;
  date_marker: number;
  created_by: string | null;
  created_at: number;
}

export interface EventDefinitionsTable {
  id: string;
  project_id: string;
  name: string;
  created_at: number;
}

export interface EventsTable {
  id: string;
  project_id: string;
  event: string;
  distinct_id: string;
  timestamp: number;
}

/** A registered protected resource and its introspection credentials (migration 014). */
export interface ResourceServersTable {
  id: string;
  uri: string;
  name: string;
  client_id: string;
  secret_hash: string;
  token_format: 'opaque' | 'jwt';
  access_token_ttl: number | null;
  platform_api_access: Bool;
  created_at: number;
  secret_rotated_at: number | null;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  organizations: OrganizationsTable;
  memberships: MembershipsTable;
  projects: ProjectsTable;
  clients: ClientsTable;
  authorizations: AuthorizationsTable;
  authorization_codes: AuthorizationCodesTable;
  token_families: TokenFamiliesTable;
  access_tokens: AccessTokensTable;
  refresh_tokens: RefreshTokensTable;
  audit_events: AuditEventsTable;
  outbox: OutboxTable;
  api_keys: ApiKeysTable;
  cimd_documents: CimdDocumentsTable;
  cimd_blocklist: CimdBlocklistTable;
  signing_keys: SigningKeysTable;
  email_verifications: EmailVerificationsTable;
  annotations: AnnotationsTable;
  event_definitions: EventDefinitionsTable;
  events: EventsTable;
  client_logos: ClientLogosTable;
  signup_requests: SignupRequestsTable;
  password_resets: PasswordResetsTable;
  two_factor: TwoFactorTable;
  recovery_codes: RecoveryCodesTable;
  pending_sign_ins: PendingSignInsTable;
  resource_servers: ResourceServersTable;
  device_authorizations: DeviceAuthorizationsTable;
}

export type ApiKey = Selectable<ApiKeysTable>;

export type User = Selectable<UsersTable>;
export type Client = Selectable<ClientsTable>;
export type NewClient = Insertable<ClientsTable>;
export type ClientUpdate = Updateable<ClientsTable>;
export type Authorization = Selectable<AuthorizationsTable>;
export type TokenFamily = Selectable<TokenFamiliesTable>;
export type AuthorizationCode = Selectable<AuthorizationCodesTable>;
export type DeviceAuthorization = Selectable<DeviceAuthorizationsTable>;
export type Organization = Selectable<OrganizationsTable>;
export type Project = Selectable<ProjectsTable>;
export type ResourceServer = Selectable<ResourceServersTable>;
