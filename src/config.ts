/**
 * The environment, read once into one typed, validated object. The server and the CLI both call
 * `loadConfig()`, so `npx tessera user create ...` writes to the database the server uses.
 */
export interface Config {
  port: number;
  host: string;
  /** The issuer identifier (RFC 8414 §2). Always from configuration, never from a Host header. */
  issuer: string;
  databaseUrl: string;
  redisUrl: string | undefined;
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
  /** Resource indicators (RFC 8707) tokens may be bound to; the platform API is the first. */
  resources: string[];
  /** How long a resource server trusts a validated token before asking the database again; bounds revocation delay. */
  tokenCacheMs: number;
  /** Seconds a rotated-in signing key is published in the JWKS before it signs (outlasts JWKS caching). */
  signingKeyPublishDelay: number;
  /** How long a rotated refresh token may be presented again and receive the same successor. */
  refreshReuseGraceSeconds: number;
  /** Secret used to encrypt signing keys at rest and to derive CSRF secrets (32+ bytes, base64url or text). */
  secretKey: string;
  /** Set only in development and tests: lets a CIMD client id point at a loopback host. */
  cimdAllowLoopback: boolean;
  /** Extra CA certificate (PEM path) trusted when fetching CIMD documents; development and tests only. */
  cimdCaFile: string | undefined;
  /** Requests per minute per IP (and per client where one is named); `enabled: false` for benchmarks. */
  rateLimits: { enabled: boolean } & Record<RateLimitedEndpoint, number>;
  /** Requests per minute per client id on the endpoints whose requests name a client. */
  clientRateLimits: Record<ClientRateLimitedEndpoint, number>;
  /** Prefix of every Redis key, so deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  logLevel: string;
  /** Trust X-Forwarded-For from a proxy in front (for per-IP rate limits). */
  trustProxy: boolean;
  /** Where GitHub publishes the public keys that sign secret-scanning reports. */
  secretScanningKeysUrl: string;
}

type Env = Record<string, string | undefined>;

export const RATE_LIMITED_ENDPOINTS = ['login', 'authorize', 'token', 'introspect', 'revoke', 'register', 'cimd', 'secret_scanning'] as const;
export type RateLimitedEndpoint = (typeof RATE_LIMITED_ENDPOINTS)[number];
/** Endpoints whose requests name a client (client_id or Basic auth); they are limited per client too. */
export const CLIENT_RATE_LIMITED_ENDPOINTS = ['authorize', 'token', 'introspect', 'revoke'] as const;
export type ClientRateLimitedEndpoint = (typeof CLIENT_RATE_LIMITED_ENDPOINTS)[number];
/** One client's users arrive from many addresses, so a client's default budget is ten addresses' worth. */
const CLIENT_RATE_LIMIT_FACTOR = 10;
const DEFAULT_RATE_LIMITS: Record<RateLimitedEndpoint, number> = {
  login: 10,
  authorize: 120,
  token: 600,
  introspect: 3000,
  revoke: 600,
  register: 60,
  cimd: 5,
  secret_scanning: 120,
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

/** A fixed development key is used only when none is configured and the issuer is not https. */
const DEVELOPMENT_SECRET_KEY = 'tessera-development-secret-key-do-not-use-in-production';

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, 'PORT', 8080, 0);
  const issuer = (env.TESSERA_ISSUER || `http://localhost:${port}`).replace(/\/+$/, '');
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
  } catch {
    throw new ConfigError(`TESSERA_ISSUER must be an absolute URL, got "${issuer}"`);
  }
  if (issuerUrl.search || issuerUrl.hash) {
    throw new ConfigError('TESSERA_ISSUER must not have a query or fragment (RFC 8414 §2)');
  }
  if (issuerUrl.protocol !== 'https:' && issuerUrl.protocol !== 'http:') {
    throw new ConfigError('TESSERA_ISSUER must be an http(s) URL');
  }
  const databaseUrl = env.DATABASE_URL || 'sqlite:./data/tessera.sqlite';
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with sqlite: or postgres://');
  }
  const secretKey = env.TESSERA_SECRET_KEY || '';
  if (!secretKey && issuerUrl.protocol === 'https:') {
    throw new ConfigError('TESSERA_SECRET_KEY is required when the issuer is https');
  }
  if (secretKey && secretKey.length < 32) {
    throw new ConfigError('TESSERA_SECRET_KEY must be at least 32 characters');
  }
  return {
    port,
    host: env.HOST || '127.0.0.1',
    issuer,
    databaseUrl,
    redisUrl: env.REDIS_URL || undefined,
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
    resources: resourceList(env.TESSERA_RESOURCES, issuer),
    tokenCacheMs: Math.min(int(env, 'TESSERA_TOKEN_CACHE_MS', 1000, 0), 1000),
    refreshReuseGraceSeconds: int(env, 'TESSERA_REFRESH_GRACE', 120, 0),
    secretKey: secretKey || DEVELOPMENT_SECRET_KEY,
    cimdAllowLoopback: bool(env, 'TESSERA_CIMD_ALLOW_LOOPBACK', false),
    cimdCaFile: env.TESSERA_CIMD_CA_FILE || undefined,
    rateLimits: {
      enabled: bool(env, 'TESSERA_RATE_LIMITS', true),
      ...(Object.fromEntries(
        RATE_LIMITED_ENDPOINTS.map((name) => [name, int(env, `TESSERA_RATE_LIMIT_${name.toUpperCase()}`, DEFAULT_RATE_LIMITS[name])]),
      ) as Record<RateLimitedEndpoint, number>),
    },
    clientRateLimits: Object.fromEntries(
      CLIENT_RATE_LIMITED_ENDPOINTS.map((name) => [
        name,
        int(env, `TESSERA_RATE_LIMIT_CLIENT_${name.toUpperCase()}`, int(env, `TESSERA_RATE_LIMIT_${name.toUpperCase()}`, DEFAULT_RATE_LIMITS[name]) * CLIENT_RATE_LIMIT_FACTOR),
      ]),
    ) as Record<ClientRateLimitedEndpoint, number>,
    redisKeyPrefix: env.TESSERA_REDIS_PREFIX || 'tessera:',
    logLevel: env.LOG_LEVEL || 'info',
    trustProxy: bool(env, 'TESSERA_TRUST_PROXY', false),
    secretScanningKeysUrl: httpUrl(env, 'TESSERA_SECRET_SCANNING_KEYS_URL', 'https://api.github.com/meta/public_keys/secret_scanning'),
  };
}

/** The platform API at `<issuer>/api`, plus any configured resource servers (absolute URIs, no fragment). */
function resourceList(raw: string | undefined, issuer: string): string[] {
  const extra = (raw ?? '').split(/[\s,]+/).filter(Boolean);
  for (const resource of extra) {
    if (!URL.canParse(resource) || resource.includes('#')) throw new ConfigError(`TESSERA_RESOURCES: "${resource}" is not an absolute URI without a fragment`);
  }
  return [...new Set([`${issuer}/api`, ...extra])];
}

export function isSecureIssuer(config: Config): boolean {
  return config.issuer.startsWith('https:');
}
