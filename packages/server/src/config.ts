/**
 * The environment, read once into one typed, validated object. The server and the CLI both call
 * `loadConfig()`, so `npx tessera user create ...` writes to the database the server uses.
 */
import ipaddr from 'ipaddr.js';

export interface Config {
  port: number;
  host: string;
  /** The issuer identifier (RFC 8414 §2). Always from configuration, never from a Host header. */
  issuer: string;
  /**
   * Where this deployment serves its pages and endpoints: its region's own URL, or the issuer for a
   * single-region deployment. In a regional deployment the issuer is the region-agnostic front.
   */
  baseUrl: string;
  /** This deployment's region (TESSERA_REGION among TESSERA_REGIONS); undefined when single-region. */
  region: Region | undefined;
  /** Every region (TESSERA_REGIONS), so a page can offer the others; empty when single-region. */
  regions: Region[];
  databaseUrl: string;
  /** The longest a request waits on the database for one step (a connection, a statement, SQLite's lock) before it is answered 503. */
  databaseTimeoutMs: number;
  redisUrl: string | undefined;
  /** Port of the Prometheus metrics listener (on `host`); undefined: no metrics listener. */
  metricsPort: number | undefined;
  /** How long a shutdown (SIGTERM, SIGINT) waits for requests in flight before closing their connections. */
  shutdownTimeoutSeconds: number;
  /** The platform's name, shown on pages and refused in third-party client names. */
  platformName: string;
  signupEnabled: boolean;
  /** Lifetimes in seconds. */
  ttl: {
    authorizationCode: number;
    accessToken: number;
    refreshToken: number;
    session: number;
    idToken: number;
  };
  /** The platform API's resource identifier (RFC 8707): `<baseUrl>/api`. */
  apiResource: string;
  /** Resource indicators (RFC 8707) tokens may be bound to; the platform API is the first. */
  resources: string[];
  /** How long a resource server trusts a validated token before asking the database again; bounds revocation delay. */
  tokenCacheMs: number;
  /** Seconds a rotated-in signing key is published in the JWKS before it signs (outlasts JWKS caching). */
  signingKeyPublishDelay: number;
  /** How long a rotated refresh token may be presented again and receive the same successor. */
  refreshReuseGraceSeconds: number;
  /** Seconds between purges of expired tokens, codes and sessions (src/oauth/purge.ts); 0: never. */
  purgeIntervalSeconds: number;
  /** Secret used to encrypt signing keys at rest and to derive CSRF secrets (32+ bytes, base64url or text). */
  secretKey: string;
  /** No TESSERA_SECRET_KEY was set: `secretKey` is the fixed development key (http issuers only). */
  usesDevelopmentSecretKey: boolean;
  /** Set only in development and tests: lets a CIMD client id point at a loopback host. */
  cimdAllowLoopback: boolean;
  /** Extra CA certificate (PEM path) trusted when fetching CIMD documents; development and tests only. */
  cimdCaFile: string | undefined;
  /** Requests per minute per IP (and per client where one is named); `enabled: false` for benchmarks. */
  rateLimits: { enabled: boolean } & Record<RateLimitedEndpoint, number>;
  /** Requests per minute per client id on the endpoints whose requests name a client. */
  clientRateLimits: Record<ClientRateLimitedEndpoint, number>;
  /**
   * Per account, whatever the address: this many failed password or second-factor checks within
   * `seconds` lock the account's sign-in for `seconds` (only while rate limits are enabled).
   */
  accountLockout: { failures: number; seconds: number };
  /**
   * The device authorization grant (RFC 8628): the polling interval devices are given (seconds),
   * and how many wrong user codes the verification page accepts per hour, from one address and
   * from everyone together (docs/device-flow.md has the arithmetic).
   */
  deviceCode: { intervalSeconds: number; wrongCodesPerAddress: number; wrongCodesTotal: number };
  /** Prefix of every Redis key, so deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  logLevel: string;
  /** The proxies in front (addresses or CIDR ranges) whose X-Forwarded-For is believed; empty: none. */
  trustProxy: string[];
  /** Where GitHub publishes the public keys that sign secret-scanning reports. */
  secretScanningKeysUrl: string;
}

type Env = Record<string, string | undefined>;

/** One regional deployment: a name such as `us` and the public base URL it serves at. */
export interface Region {
  name: string;
  baseUrl: string;
}

/** What `tessera front`, the region-agnostic front with no database, reads from the environment. */
export interface FrontConfig {
  port: number;
  host: string;
  /** The front's public URL: the issuer identifier every region is configured with. */
  issuer: string;
  /** Every region, in TESSERA_REGIONS order; the first takes registrations and serves discovery. */
  regions: Region[];
  platformName: string;
  logLevel: string;
  /** As for a region: the proxies in front of the front. */
  trustProxy: string[];
  /** How long one call to a region may take before the region counts as unavailable. */
  upstreamTimeoutMs: number;
  shutdownTimeoutSeconds: number;
}

export const RATE_LIMITED_ENDPOINTS = ['login', 'authorize', 'device_authorization', 'device_verification', 'token', 'introspect', 'revoke', 'register', 'cimd', 'secret_scanning', 'client_display'] as const;
export type RateLimitedEndpoint = (typeof RATE_LIMITED_ENDPOINTS)[number];
/** Endpoints whose requests name a client (client_id or Basic auth); they are limited per client too. */
export const CLIENT_RATE_LIMITED_ENDPOINTS = ['authorize', 'device_authorization', 'token', 'introspect', 'revoke'] as const;
export type ClientRateLimitedEndpoint = (typeof CLIENT_RATE_LIMITED_ENDPOINTS)[number];
/** One client's users arrive from many addresses, so a client's default budget is ten addresses' worth. */
const CLIENT_RATE_LIMIT_FACTOR = 10;
const DEFAULT_RATE_LIMITS: Record<RateLimitedEndpoint, number> = {
  login: 10,
  authorize: 120,
  device_authorization: 60,
  device_verification: 30,
  token: 600,
  introspect: 3000,
  revoke: 600,
  register: 60,
  cimd: 5,
  secret_scanning: 120,
  client_display: 120,
};

export class ConfigError extends Error {}

function int(env: Env, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function httpUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  return raw;
}

const ANYONE = /^(1|true|yes|on)$/i;

/**
 * TESSERA_TRUST_PROXY: the addresses or CIDR ranges of the proxies in front, the only peers whose
 * X-Forwarded-For is believed (RFC 9700 §4.13 on forwarded headers). Believing it from anyone would
 * let every client choose the address that per-IP limits count, so `true` is refused.
 */
function trustedProxies(env: Env): string[] {
  const raw = env.TESSERA_TRUST_PROXY?.trim() ?? '';
  if (raw === '' || /^(0|false|no|off)$/i.test(raw)) return [];
  if (ANYONE.test(raw)) {
    throw new ConfigError(
      `TESSERA_TRUST_PROXY=${raw} would believe X-Forwarded-For from anyone, so any client could choose the address rate limits count; ` +
        'list the addresses or CIDR ranges of your proxies instead, e.g. TESSERA_TRUST_PROXY=10.0.0.0/8,127.0.0.1',
    );
  }
  const entries = raw.split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of entries) {
    const valid = ipaddr.IPv4.isValidFourPartDecimal(entry) || ipaddr.IPv4.isValidCIDRFourPartDecimal(entry) || ipaddr.IPv6.isValid(entry) || ipaddr.IPv6.isValidCIDR(entry);
    if (!valid) throw new ConfigError(`TESSERA_TRUST_PROXY: "${entry}" is not an IP address or CIDR range (e.g. 10.0.0.0/8 or 127.0.0.1)`);
  }
  return entries;
}

/** A fixed development key is used only when none is configured and the issuer is not https. */
const DEVELOPMENT_SECRET_KEY = 'tessera-development-secret-key-do-not-use-in-production';

/** An http(s) URL without query or fragment (RFC 8414 §2), trailing slashes removed. */
function parseBaseUrl(name: string, raw: string): string {
  const value = raw.replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an absolute URL, got "${raw}"`);
  }
  if (url.search || url.hash) throw new ConfigError(`${name} must not have a query or fragment (RFC 8414 §2)`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${name} must be an http(s) URL`);
  if (url.username || url.password) throw new ConfigError(`${name} must not contain credentials`);
  return value;
}

const REGION_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** TESSERA_REGIONS: `us=https://us.example.com,eu=https://eu.example.com`, each region's own base URL. */
export function parseRegions(raw: string | undefined): Region[] {
  const regions: Region[] = [];
  for (const entry of (raw ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
    const separator = entry.indexOf('=');
    const name = entry.slice(0, separator).trim();
    if (separator < 0 || !REGION_NAME.test(name)) {
      throw new ConfigError(`TESSERA_REGIONS: "${entry}" must be <name>=<base URL> with a lowercase name such as us or eu`);
    }
    if (regions.some((region) => region.name === name)) throw new ConfigError(`TESSERA_REGIONS names ${name} twice`);
    regions.push({ name, baseUrl: parseBaseUrl(`TESSERA_REGIONS (${name})`, entry.slice(separator + 1).trim()) });
  }
  return regions;
}

/** TESSERA_REGION picks this deployment out of TESSERA_REGIONS; the issuer is then the front's URL. */
function thisRegion(env: Env, issuer: string): Region | undefined {
  const regions = parseRegions(env.TESSERA_REGIONS);
  if (!env.TESSERA_REGION) {
    if (regions.length) throw new ConfigError("TESSERA_REGIONS is set: TESSERA_REGION must name this deployment's region (the front runs with `tessera front`)");
    return undefined;
  }
  const region = regions.find((candidate) => candidate.name === env.TESSERA_REGION);
  if (!region) throw new ConfigError(`TESSERA_REGION ${env.TESSERA_REGION} is not one of TESSERA_REGIONS`);
  if (!env.TESSERA_ISSUER || region.baseUrl === issuer) {
    throw new ConfigError("TESSERA_ISSUER must be the front's URL when TESSERA_REGION is set (the region's own URL is in TESSERA_REGIONS)");
  }
  return region;
}

export function loadFrontConfig(env: Env = process.env): FrontConfig {
  const port = int(env, 'PORT', 8080, 0);
  if (!env.TESSERA_ISSUER) throw new ConfigError("TESSERA_ISSUER must be the front's public URL");
  const issuer = parseBaseUrl('TESSERA_ISSUER', env.TESSERA_ISSUER);
  const regions = parseRegions(env.TESSERA_REGIONS);
  if (!regions.length) throw new ConfigError('TESSERA_REGIONS must list the regions, e.g. us=https://us.example.com,eu=https://eu.example.com');
  if (regions.some((region) => region.baseUrl === issuer)) throw new ConfigError("TESSERA_ISSUER (the front) must differ from every region's URL");
  return {
    port,
    host: env.HOST || '127.0.0.1',
    issuer,
    regions,
    platformName: env.TESSERA_PLATFORM_NAME || 'Tessera',
    logLevel: env.LOG_LEVEL || 'info',
    trustProxy: trustedProxies(env),
    upstreamTimeoutMs: int(env, 'TESSERA_FRONT_TIMEOUT_MS', 10_000),
    shutdownTimeoutSeconds: int(env, 'TESSERA_SHUTDOWN_TIMEOUT', 10, 0),
  };
}

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, 'PORT', 8080, 0);
  const issuer = parseBaseUrl('TESSERA_ISSUER', env.TESSERA_ISSUER || `http://localhost:${port}`);
  const region = thisRegion(env, issuer);
  const baseUrl = region?.baseUrl ?? issuer;
  // The platform API is served where this deployment is, in its region.
  const apiResource = `${baseUrl}/api`;
  const databaseUrl = env.DATABASE_URL || 'sqlite:./data/tessera.sqlite';
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with sqlite: or postgres://');
  }
  const secretKey = env.TESSERA_SECRET_KEY || '';
  if (!secretKey && issuer.startsWith('https:')) {
    throw new ConfigError('TESSERA_SECRET_KEY is required when the issuer is https');
  }
  if (secretKey && secretKey.length < 32) {
    throw new ConfigError('TESSERA_SECRET_KEY must be at least 32 characters');
  }
  const rateLimits = Object.fromEntries(
    RATE_LIMITED_ENDPOINTS.map((name) => [name, int(env, `TESSERA_RATE_LIMIT_${name.toUpperCase()}`, DEFAULT_RATE_LIMITS[name])]),
  ) as Record<RateLimitedEndpoint, number>;
  return {
    port,
    host: env.HOST || '127.0.0.1',
    issuer,
    baseUrl,
    region,
    regions: region ? parseRegions(env.TESSERA_REGIONS) : [],
    databaseUrl,
    databaseTimeoutMs: int(env, 'TESSERA_DATABASE_TIMEOUT_MS', 1500, 100),
    redisUrl: env.REDIS_URL || undefined,
    metricsPort: metricsPort(env, port),
    shutdownTimeoutSeconds: int(env, 'TESSERA_SHUTDOWN_TIMEOUT', 10, 0),
    platformName: env.TESSERA_PLATFORM_NAME || 'Tessera',
    signupEnabled: bool(env, 'TESSERA_SIGNUP', true),
    ttl: {
      authorizationCode: int(env, 'TESSERA_CODE_TTL', 600),
      accessToken: int(env, 'TESSERA_ACCESS_TOKEN_TTL', 3600),
      refreshToken: int(env, 'TESSERA_REFRESH_TOKEN_TTL', 30 * 24 * 3600),
      session: int(env, 'TESSERA_SESSION_TTL', 14 * 24 * 3600),
      idToken: int(env, 'TESSERA_ID_TOKEN_TTL', 3600),
    },
    signingKeyPublishDelay: int(env, 'TESSERA_KEY_PUBLISH_DELAY', 600, 0),
    apiResource,
    resources: resourceList(env.TESSERA_RESOURCES, apiResource),
    tokenCacheMs: Math.min(int(env, 'TESSERA_TOKEN_CACHE_MS', 1000, 0), 1000),
    refreshReuseGraceSeconds: int(env, 'TESSERA_REFRESH_GRACE', 120, 0),
    purgeIntervalSeconds: int(env, 'TESSERA_PURGE_INTERVAL', 3600, 0),
    secretKey: secretKey || DEVELOPMENT_SECRET_KEY,
    usesDevelopmentSecretKey: !secretKey,
    cimdAllowLoopback: bool(env, 'TESSERA_CIMD_ALLOW_LOOPBACK', false),
    cimdCaFile: env.TESSERA_CIMD_CA_FILE || undefined,
    rateLimits: { enabled: bool(env, 'TESSERA_RATE_LIMITS', true), ...rateLimits },
    clientRateLimits: Object.fromEntries(
      CLIENT_RATE_LIMITED_ENDPOINTS.map((name) => [name, int(env, `TESSERA_RATE_LIMIT_CLIENT_${name.toUpperCase()}`, rateLimits[name] * CLIENT_RATE_LIMIT_FACTOR)]),
    ) as Record<ClientRateLimitedEndpoint, number>,
    accountLockout: { failures: int(env, 'TESSERA_ACCOUNT_LOCKOUT_FAILURES', 10, 2), seconds: int(env, 'TESSERA_ACCOUNT_LOCKOUT_SECONDS', 900) },
    deviceCode: {
      intervalSeconds: int(env, 'TESSERA_DEVICE_CODE_INTERVAL', 5),
      wrongCodesPerAddress: int(env, 'TESSERA_DEVICE_CODE_WRONG_PER_ADDRESS', 20),
      wrongCodesTotal: int(env, 'TESSERA_DEVICE_CODE_WRONG_TOTAL', 300),
    },
    redisKeyPrefix: env.TESSERA_REDIS_PREFIX || 'tessera:',
    logLevel: env.LOG_LEVEL || 'info',
    trustProxy: trustedProxies(env),
    secretScanningKeysUrl: httpUrl(env, 'TESSERA_SECRET_SCANNING_KEYS_URL', 'https://api.github.com/meta/public_keys/secret_scanning'),
  };
}

/** TESSERA_METRICS_PORT: a port of its own, so metrics are never served to the public beside the endpoints. */
function metricsPort(env: Env, port: number): number | undefined {
  if (!env.TESSERA_METRICS_PORT) return undefined;
  const value = int(env, 'TESSERA_METRICS_PORT', 0, 0);
  if (value > 65535) throw new ConfigError(`TESSERA_METRICS_PORT must be a port number, got "${env.TESSERA_METRICS_PORT}"`);
  if (value !== 0 && value === port) throw new ConfigError('TESSERA_METRICS_PORT must differ from PORT');
  return value;
}

/** The platform API, plus any configured resource servers (absolute URIs, no fragment). */
function resourceList(raw: string | undefined, apiResource: string): string[] {
  const extra = (raw ?? '').split(/[\s,]+/).filter(Boolean);
  for (const resource of extra) {
    if (!URL.canParse(resource) || resource.includes('#')) throw new ConfigError(`TESSERA_RESOURCES: "${resource}" is not an absolute URI without a fragment`);
  }
  return [...new Set([apiResource, ...extra])];
}

/** Cookies are Secure and HSTS is sent where pages are served over https. */
export function isHttps(url: string): boolean {
  return url.startsWith('https:');
}
