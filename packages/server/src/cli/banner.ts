/**
 * What `tessera start` tells the person who started it, once the database is ready (on stderr; the
 * JSON log on stdout is unchanged): the issuer URL clients must use (not the bind address), the
 * database and Redis it uses (never a password), the metrics listener, a warning when the
 * development secret key is in use, and on an instance without users, how to create the first.
 */
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import type { Runtime } from '../runtime.js';

/** Where a database or Redis URL points, without its user's password. */
function describeServer(url: string): string {
  const parsed = new URL(url);
  const user = parsed.username ? ` as ${decodeURIComponent(parsed.username)}` : '';
  const name = parsed.pathname.replace(/^\//, '');
  return `${parsed.host}${name ? `/${decodeURIComponent(name)}` : ''}${user}`;
}

export function describeDatabase(databaseUrl: string): string {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length);
    return `SQLite ${path === '' || path === ':memory:' ? 'in memory' : resolve(path)}`;
  }
  return `PostgreSQL ${describeServer(databaseUrl)}`;
}

export async function startBanner(config: Config, runtime: Runtime, metricsPort: number | undefined): Promise<string> {
  const hasUsers = await runtime.store.accounts.hasUsers();
  const lines = [
    '',
    `Tessera is ready. Issuer (the URL for clients and browsers): ${config.issuer}`,
    ...(config.region ? [`  region      ${config.region.name}, served at ${config.baseUrl}`] : []),
    `  listening   ${config.host}:${config.port}`,
    `  database    ${describeDatabase(config.databaseUrl)}`,
    `  Redis       ${config.redisUrl ? `on, ${describeServer(config.redisUrl)}` : 'off (rate limits count on this instance only)'}`,
    `  metrics     ${metricsPort === undefined ? 'off (set TESSERA_METRICS_PORT)' : `http://${config.host}:${metricsPort}/metrics`}`,
    `  probes      ${config.baseUrl}/healthz, ${config.baseUrl}/readyz`,
  ];
  if (config.usesDevelopmentSecretKey) {
    lines.push('', '  Warning: TESSERA_SECRET_KEY is not set, so the development key seals signing keys and signs cookies.', '  Set a secret of 32 characters or more before anyone relies on this instance.');
  }
  if (!hasUsers) {
    lines.push('', '  No users yet. Create the first (it becomes the instance admin):');
    if (config.signupEnabled) lines.push(`    sign up at ${config.baseUrl}/signup, or`);
    lines.push(`    npx tessera user create --email you@example.com --password '<a long password>' --name 'Your Name'`);
  }
  return lines.join('\n') + '\n\n';
}
