/**
 * The example CLI (examples/cli/) as its user runs it, a child process against a real Tessera:
 * `login` with a device code that Chromium types at /device, and `login --browser` with Chromium
 * opening the URL the CLI prints; then `whoami`, `projects`, a refresh when the access token
 * nears expiry, and `logout`, which revokes. The token file is the user's alone (0600).
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { browserSuite, useBrowser } from '../support/browser.js';
import { sqliteTarget } from '../support/database.js';
import { PASSWORD, seedClient, seedOrganization, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/cli');
const CLI = join(EXAMPLE, 'cli.mjs');

interface Run {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the first stdout line matching `pattern`. */
  line(pattern: RegExp): Promise<RegExpExecArray>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

describe('example CLI against a real Tessera', browserSuite, () => {
  const ui = useBrowser();
  let server: TestServer;
  let dir: string;
  let tokenFile: string;
  let user: { id: string; email: string };
  let projectIds: string[];
  let clientId: string;

  before(async () => {
    server = await startTestServer(sqliteTarget, { TESSERA_DEVICE_CODE_INTERVAL: '1' });
    user = await seedUser(server.ctx, 'linus@example.com');
    projectIds = (await seedOrganization(server.ctx, user.id, 'Acme', ['Web', 'Mobile'])).projects.map((project) => project.id);
    clientId = (
      await seedClient(server.ctx, {
        name: 'Example CLI',
        isPublic: true,
        redirectUris: ['http://127.0.0.1/callback'],
        grantTypes: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      })
    ).client.id;
    dir = mkdtempSync(join(tmpdir(), 'tessera-example-cli-'));
    tokenFile = join(dir, 'config', 'tokens.json');
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function cli(...args: string[]): Run {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: dir, TESSERA_ISSUER: server.url, TESSERA_CLIENT_ID: clientId, TESSERA_TOKEN_FILE: tokenFile, BROWSER: 'none' },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    const waiters: Array<{ pattern: RegExp; resolve: (match: RegExpExecArray) => void }> = [];
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      lines.push(line);
      for (const waiter of waiters) {
        const match = waiter.pattern.exec(line);
        if (match) waiter.resolve(match);
      }
    });
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveDone) => child.on('close', (code) => resolveDone({ code, stdout, stderr })));
    return {
      child,
      done,
      line: (pattern) =>
        new Promise((resolveLine, reject) => {
          const seen = lines.map((line) => pattern.exec(line)).find(Boolean);
          if (seen) return resolveLine(seen);
          waiters.push({ pattern, resolve: resolveLine });
          void done.then(({ stdout: out, stderr: err }) => reject(new Error(`the CLI exited without printing ${pattern}:\n${out}\n${err}`)));
        }),
    };
  }

  async function succeeds(...args: string[]): Promise<string> {
    const { code, stdout, stderr } = await cli(...args).done;
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    return stdout;
  }

  async function signIn(page: Page) {
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('type-checks against the client package declarations', async () => {
    await promisify(execFile)(process.execPath, [resolve(import.meta.dirname, '../../node_modules/typescript/bin/tsc'), '-p', EXAMPLE]);
  });

  it('logs in with a device code, keeps the tokens to itself, calls the API, refreshes and logs out', async () => {
    const login = cli('login');
    const [, verificationUri, userCode] = await login.line(/^To sign in, open (\S+) on any device and enter the code (\S+)$/);
    assert.equal(verificationUri, `${server.url}/device`);
    const context = await ui.browser.newContext();
    const page = await context.newPage();
    await page.goto(verificationUri!);
    await signIn(page);
    await page.getByLabel('Code').fill(userCode!);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Authorize' }).click();
    await page.getByRole('heading', { name: 'Device connected' }).waitFor();
    await context.close();
    const { code, stdout, stderr } = await login.done;
    assert.equal(code, 0, stderr);
    assert.match(stdout, /Signed in as linus@example\.com\./);

    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'config')).mode & 0o777, 0o700);
    assert.equal(await succeeds('whoami'), `${user.email} (${user.id})\n`);
    const projects = await succeeds('projects');
    for (const id of projectIds) assert.match(projects, new RegExp(`^${id}  `, 'm'));

    // The access token is about to expire: the next call refreshes first and keeps the new tokens.
    const before = JSON.parse(readFileSync(tokenFile, 'utf8')) as { refreshToken: string; expiresAt: number };
    writeFileSync(tokenFile, JSON.stringify({ ...before, expiresAt: Date.now() + 1000 }));
    assert.equal(await succeeds('whoami'), `${user.email} (${user.id})\n`);
    const after = JSON.parse(readFileSync(tokenFile, 'utf8')) as { refreshToken: string; expiresAt: number };
    assert.notEqual(after.refreshToken, before.refreshToken);
    assert.ok(after.expiresAt > Date.now() + 30 * 60_000);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);

    assert.equal(await succeeds('logout'), 'Signed out.\n');
    assert.throws(() => statSync(tokenFile), { code: 'ENOENT' });
    const families = await server.db.selectFrom('token_families').select(['revoked_at']).where('client_id', '=', clientId).execute();
    assert.ok(families.length > 0 && families.every((family) => family.revoked_at !== null), 'logout revokes what the CLI held');
    const signedOut = await cli('whoami').done;
    assert.equal(signedOut.code, 1);
    assert.match(signedOut.stderr, /Not signed in/);
  });

  it('logs in with --browser: Chromium opens the URL the CLI prints and lands on the loopback page', async () => {
    const login = cli('login', '--browser');
    const [, url] = await login.line(/^Opening (\S+) in your browser/);
    const authorization = new URL(url!);
    assert.equal(`${authorization.origin}${authorization.pathname}`, `${server.url}/oauth/authorize`);
    assert.match(authorization.searchParams.get('redirect_uri')!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const page = await ui.browser.newPage();
    await page.goto(url!);
    await signIn(page);
    // The device sign-in before consented to these scopes, so the code flow skips the consent page.
    await page.getByRole('heading', { name: 'Signed in' }).waitFor();
    assert.match((await page.textContent('body')) ?? '', /You can close this tab/);
    await page.close();
    const { code, stdout, stderr } = await login.done;
    assert.equal(code, 0, stderr);
    assert.match(stdout, /Signed in as linus@example\.com\./);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.equal(await succeeds('whoami'), `${user.email} (${user.id})\n`);
    assert.equal(await succeeds('logout'), 'Signed out.\n');
  });
});
