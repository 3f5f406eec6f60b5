/**
 * @tessera/resource-server as a resource server's developer gets it: `npm pack`, installed offline
 * into an empty directory with jose as its only dependency (packed from the repository's
 * node_modules in place of the registry; Fastify and Express are optional peers, not installed), imported from a TypeScript file that is type-checked (strict, without
 * skipLibCheck) against the installed declarations, then run to check a token a real Tessera issued.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sqliteTarget } from '../support/database.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { packAndInstall, type InstalledPackage } from '../support/package-install.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT_URI = 'http://127.0.0.1:7777/callback';

const consumer = (settings: { issuer: string; clientId: string; clientSecret: string; token: string }) => `
import { BearerError, checkProjectAccess, createVerifier, type Principal, type Verifier } from '@tessera/resource-server';

const settings = ${JSON.stringify(settings)};
const verifier: Verifier = createVerifier({ issuer: settings.issuer, resource: settings.issuer + '/api', introspection: { clientId: settings.clientId, clientSecret: settings.clientSecret } });
// @ts-expect-error the resource is required
void (() => createVerifier({ issuer: settings.issuer }));
const principal: Principal = await verifier.verify('Bearer ' + settings.token);
verifier.requireScopes(principal, 'project:read');
checkProjectAccess(principal, { id: 'prj_1', organizationId: 'org_1' });
const refused = await verifier.verify('Bearer pha_unknown').then(
  () => undefined,
  (error: unknown) => (error instanceof BearerError ? { status: error.status, code: error.code, challenge: error.headers['www-authenticate'] } : String(error)),
);
console.log(JSON.stringify({ sub: principal.sub, scopes: principal.scopes, accessLevel: principal.accessLevel, refused }));
`;

describe('@tessera/resource-server from its npm tarball', () => {
  let server: TestServer;
  let installed: InstalledPackage;

  before(async () => {
    [server, installed] = await Promise.all([startTestServer(sqliteTarget), packAndInstall('resource-server', ['jose'])]);
  });
  after(async () => {
    await server?.close();
    installed?.remove();
  });

  it('ships its build, declarations and adapters, and installs with jose alone', () => {
    assert.deepEqual(installed.installed().sort(), ['@tessera/resource-server', 'jose']);
    const manifest = JSON.parse(readFileSync(join(installed.dir, 'node_modules/@tessera/resource-server/package.json'), 'utf8')) as { dependencies: object; exports: Record<string, unknown> };
    assert.deepEqual(Object.keys(manifest.dependencies), ['jose']);
    assert.deepEqual(Object.keys(manifest.exports), ['.', './fastify', './express', './package.json']);
    for (const file of ['dist/index.d.ts', 'dist/fastify.js', 'dist/fastify.d.ts', 'dist/express.js', 'dist/express.d.ts']) assert.ok(installed.files.includes(file), file);
    assert.deepEqual(installed.files.filter((file) => !/^dist\/[\w-]+\.(js|d\.ts)$/.test(file)).sort(), ['README.md', 'package.json']);
  });

  it('keeps Fastify and Express out of its runtime imports', () => {
    const dist = join(installed.dir, 'node_modules/@tessera/resource-server/dist');
    for (const file of ['fastify.js', 'express.js', 'index.js']) assert.doesNotMatch(readFileSync(join(dist, file), 'utf8'), /from ['"](fastify|express)['"]/, file);
  });

  it('type-checks against the installed declarations and checks a Tessera token', async () => {
    const user = await seedUser(server.ctx);
    const { client, clientSecret } = await seedClient(server.ctx, { redirectUris: [REDIRECT_URI] });
    const app = await TestOAuthClient.discover(server.url, { clientId: client.id, clientSecret, redirectUri: REDIRECT_URI });
    const agent = new UserAgent(server.url);
    await agent.signIn(user.email, PASSWORD);
    const { url, codeVerifier, state } = await app.authorizationUrl('project:read');
    const tokens = await app.exchange(await agent.authorize(url.href), codeVerifier, state);

    await installed.compile('consumer', consumer({ issuer: server.url, clientId: client.id, clientSecret: clientSecret!, token: tokens.access_token }));
    const child = installed.start('consumer');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    const code = await new Promise((resolve) => child.once('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), {
      sub: user.id,
      scopes: ['project:read'],
      accessLevel: 'all',
      refused: {
        status: 401,
        code: 'invalid_token',
        challenge: `Bearer resource_metadata="${server.url}/.well-known/oauth-protected-resource/api", error="invalid_token", error_description="the access token is invalid, expired or revoked"`,
      },
    });
  });
});
