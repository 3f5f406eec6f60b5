/**
 * The README's "One full flow, by hand", run as written: every `sh` line of that section is taken
 * from README.md and run by bash against a real server, with only the README's placeholders (`<org
 * id>`, `pca_…`, `phac_…`, …) replaced by the values the steps before printed, and Chromium doing
 * the browser step. `npx tessera` runs the same command from source (packages/server/src/cli/main.ts),
 * so the test needs no build; the server's port replaces 8080. If the README drifts, this fails.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { browserSuite, launchBrowser } from '../support/browser.js';
import { startTesseraProcess, type TesseraProcess } from '../support/child-server.js';
import { freePort } from '../support/server.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The README section's `sh` blocks, each a list of commands (continuation lines joined). */
function readmeFlow(): string[][] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## One full flow, by hand'), readme.indexOf('\n## ', readme.indexOf('## One full flow, by hand') + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map(([, block]) =>
    block!
      .replace(/\\\n\s*/g, '')
      .split('\n')
      // A trailing `# …` shows the output; bash would ignore it too.
      .map((line) => line.replace(/\s+#\s.*$/, ''))
      .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#')),
  );
}

describe("the README's first flow, as pasted", browserSuite, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-readme-'));
  let server: TesseraProcess;
  let env: NodeJS.ProcessEnv;
  /** Placeholder → value, filled in as the steps print them. */
  const values = new Map<string, string>();

  before(async () => {
    const port = await freePort();
    const databaseUrl = `sqlite:${join(dir, 'tessera.sqlite')}`;
    server = await startTesseraProcess({ PORT: String(port), TESSERA_ISSUER: `http://localhost:${port}`, DATABASE_URL: databaseUrl }, { until: 'ready' });
    env = { ...process.env, DATABASE_URL: databaseUrl, TESSERA_ISSUER: `http://localhost:${port}` };
    values.set('http://localhost:8080', `http://localhost:${port}`);
    values.set('npx tessera', `node --import tsx ${join(ROOT, 'packages/server/src/cli/main.ts')}`);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs one README line in bash with the placeholders filled in; returns its stdout. */
  async function sh(line: string, extraEnv: Record<string, string> = {}): Promise<string> {
    let command = line;
    for (const [placeholder, value] of values) command = command.split(placeholder).join(value);
    assert.doesNotMatch(command, /…|<[a-z ]+>/, `a placeholder is left in: ${command}`);
    const { stdout } = await run('bash', ['-c', command], { cwd: ROOT, env: { ...env, ...extraEnv }, maxBuffer: 1 << 20 });
    return stdout;
  }

  it('sets up, authorizes in a browser, exchanges the code, reads the API, refreshes and revokes', async () => {
    const [setup, pkce, exchange, reads, rotation] = readmeFlow();
    assert.ok(setup && pkce && exchange && reads && rotation, 'the section has its five sh blocks');

    // Set-up: the server line is what this test did in before(); every other line runs as written.
    assert.match(setup[0]!, /^npm install && npm start/);
    await sh(setup[1]!);
    values.set('<org id>', JSON.parse(await sh(setup[2]!)).id);
    const project = JSON.parse(await sh(setup[3]!));
    assert.ok(project.sample_events > 0, 'the project has sample events for the query');
    values.set('<project id>', project.id);
    const client = JSON.parse(await sh(setup[4]!));
    values.set('pca_…', client.client_id);
    values.set('pcs_…', client.client_secret);

    // The PKCE pair and the authorization URL, in one shell so the variables carry over.
    const [verifier, url] = (await sh([...pkce, 'echo "$verifier"'].join('\n'))).trim().split('\n').reverse();
    assert.ok(verifier && url);

    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      let callback: URL | undefined;
      // Nothing listens at the README's redirect URI; the browser's landing there is the result.
      await page.route('http://127.0.0.1:9000/callback**', (route) => {
        callback = new URL(route.request().url());
        return route.fulfill({ status: 200, contentType: 'text/plain', body: 'landed' });
      });
      await page.goto(url);
      await page.getByLabel('Email').fill('ada@example.com');
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Authorize' }).click();
      await page.waitForURL('http://127.0.0.1:9000/callback**');
      assert.equal(callback?.searchParams.get('state'), 'xyz');
      assert.equal(callback?.searchParams.get('iss'), values.get('http://localhost:8080'));
      values.set('phac_…', callback!.searchParams.get('code')!);
    } finally {
      await browser.close();
    }

    const tokens = JSON.parse(await sh(exchange[0]!, { verifier }));
    assert.match(tokens.access_token, /^pha_/);
    assert.match(tokens.refresh_token, /^phr_/);
    assert.ok(tokens.id_token, 'openid in the scope brings an ID token');
    values.set('pha_…', tokens.access_token);
    values.set('phr_…', tokens.refresh_token);

    const [userinfo, organizations, projectRead, query, introspection] = await Promise.all(reads.map((line) => sh(line)));
    assert.equal(JSON.parse(userinfo!).email, 'ada@example.com');
    assert.deepEqual(JSON.parse(organizations!).results.map((organization: { name: string }) => organization.name), ['Acme']);
    assert.equal(JSON.parse(projectRead!).name, 'Web');
    assert.ok(JSON.parse(query!).totals.count > 0, query);
    assert.equal(JSON.parse(introspection!).active, true);

    const refreshed = JSON.parse(await sh(rotation[0]!));
    assert.match(refreshed.refresh_token, /^phr_/);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    values.set('phr_…', refreshed.refresh_token);
    values.set('pha_…', refreshed.access_token);
    await sh(rotation[1]!);
    assert.equal(JSON.parse(await sh(reads.at(-1)!)).active, false, 'revoking the refresh token ends its access tokens too');
    assert.equal(JSON.parse(await sh(rotation[2]!)).issuer, values.get('http://localhost:8080'));
  });
});
