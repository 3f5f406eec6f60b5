/**
 * @tessera/client as a third-party developer gets it: `npm pack`, installed offline into an empty
 * directory with no dependencies, imported from a TypeScript file that is type-checked (strict,
 * without skipLibCheck or @types/node) against the installed declarations, then run to sign in
 * against a real Tessera through signInWithBrowser.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { sqliteTarget } from '../support/database.js';
import { packAndInstall, type InstalledPackage } from '../support/package-install.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

/** The consumer's program: everything a CLI needs, with types that must line up. */
const consumer = (issuer: string, clientId: string) => `
import { MemoryTokenStore, SignedOutError, TesseraClient, type AccessLevel, type IdTokenClaims, type StoredTokens } from '@tessera/client';
import { signInWithBrowser } from '@tessera/client/node';

const client = await TesseraClient.discover({ issuer: ${JSON.stringify(issuer)}, clientId: ${JSON.stringify(clientId)}, redirectUri: 'http://127.0.0.1/callback', store: new MemoryTokenStore() });
// @ts-expect-error the scopes are required
void signInWithBrowser.bind(undefined, client, { open: () => undefined });
const tokens: StoredTokens = await signInWithBrowser(client, { scope: 'openid email user:read', open: (url: string) => console.log(JSON.stringify({ open: url })) });
const level: AccessLevel = tokens.accessLevel;
const claims: IdTokenClaims | undefined = await client.idTokenClaims();
const me = (await (await client.fetchApi('/api/users/@me')).json()) as { id: string };
await client.revoke();
const signedOut = await client.fetchApi('/api/users/@me').then(() => false, (error: unknown) => error instanceof SignedOutError);
console.log(JSON.stringify({ level, sub: claims?.sub, me: me.id, signedOut }));
`;

describe('@tessera/client from its npm tarball', () => {
  let server: TestServer;
  let installed: InstalledPackage;

  before(async () => {
    [server, installed] = await Promise.all([startTestServer(sqliteTarget), packAndInstall('client')]);
  });
  after(async () => {
    await server?.close();
    installed?.remove();
  });

  it('ships its build and declarations only, and installs with no dependencies', () => {
    assert.deepEqual(installed.installed(), ['@tessera/client']);
    const manifest = JSON.parse(readFileSync(join(installed.dir, 'node_modules/@tessera/client/package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(manifest.dependencies, undefined);
    assert.ok(installed.files.includes('dist/index.d.ts') && installed.files.includes('dist/node.d.ts'));
    assert.deepEqual(installed.files.filter((file) => !/^dist\/[\w-]+\.(js|d\.ts)$/.test(file)).sort(), ['README.md', 'package.json']);
  });

  it('keeps node: imports out of the main entry, so it runs in browsers', () => {
    const dist = join(installed.dir, 'node_modules/@tessera/client/dist');
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(join(dist, file), 'utf8');
      for (const [, specifier] of source.matchAll(/(?:from|import)\s*['"]([^'"]+)['"]/g)) {
        assert.ok(specifier!.startsWith('./'), `${file} imports ${specifier}`);
        visit(specifier!.slice(2));
      }
    };
    visit('index.js');
    assert.ok(seen.size > 5);
    assert.ok(!seen.has('node.js'));
  });

  it('type-checks against the installed declarations and signs in', async () => {
    const user = await seedUser(server.ctx);
    const { client } = await seedClient(server.ctx, { isPublic: true, redirectUris: ['http://127.0.0.1/callback'] });
    await installed.compile('consumer', consumer(server.url, client.id));

    const child = installed.start('consumer');
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    const browser = new UserAgent(server.url);
    await browser.signIn(user.email, PASSWORD);
    let result: Record<string, unknown> | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (typeof message.open === 'string') await fetch(await browser.authorize(message.open));
      else result = message;
    }
    assert.equal(stderr, '');
    assert.deepEqual(result, { level: 'all', sub: user.id, me: user.id, signedOut: true });
  });
});
