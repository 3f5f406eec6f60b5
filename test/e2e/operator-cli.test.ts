/**
 * The `tessera` command as an operator lives in it: list and show for users, organizations,
 * projects and clients (with --json), client rotate-secret and delete, user set-password,
 * passwords from standard input or a prompt (never required on the command line), --version,
 * a description for every command, and `app verify` on every kind of registered client.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildCli, runCli } from '../../packages/server/src/cli/program.js';
import { loadConfig } from '../../packages/server/src/config.js';
import { createRuntime } from '../../packages/server/src/runtime.js';
import { verifyPassword } from '../../packages/server/src/platform/accounts/passwords.js';
import { tesseraCli } from '../support/cli.js';

const tessera = tesseraCli();
const PASSWORD = 'a long and quiet river';

async function database<T>(fn: (runtime: Awaited<ReturnType<typeof createRuntime>>) => Promise<T>): Promise<T> {
  const runtime = await createRuntime(loadConfig({ DATABASE_URL: tessera.databaseUrl }));
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

describe('tessera CLI for operators', () => {
  let orgId: string;
  let projectId: string;

  before(async () => {
    assert.equal((await tessera('migrate')).status, 0);
  });
  after(() => tessera.dispose());

  it('prints its version from the package', async () => {
    const { version } = JSON.parse(readFileSync('packages/server/package.json', 'utf8')) as { version: string };
    const result = await tessera('--version');
    assert.equal(result.status, 0);
    assert.equal(result.stdout.trim(), version);
  });

  it('describes every command in --help, and start --help points to the configuration reference', async () => {
    const undescribed: string[] = [];
    const walk = (command: Command, path: string[]) => {
      for (const sub of command.commands) {
        const name = [...path, sub.name()];
        if (!sub.description()) undescribed.push(name.join(' '));
        walk(sub, name);
      }
    };
    walk(buildCli(), []);
    assert.deepEqual(undescribed, []);

    const help = await tessera('start', '--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /docs\/configuration\.md/);
    assert.match(help.stdout, /TESSERA_SECRET_KEY/);
    assert.ok(readFileSync('docs/configuration.md', 'utf8').includes('TESSERA_SECRET_KEY'), 'the reference it names exists');
  });

  it('creates a user with the password from standard input, or refuses without one and never needs --password', async () => {
    const created = await tessera.withStdin(`${PASSWORD}\n`, 'user', 'create', '--email', 'ops@example.com', '--name', 'Ops', '--password-stdin', '--verified', '--json');
    assert.equal(created.status, 0, created.stderr);
    assert.equal(created.json().is_admin, true);
    const hash = await database(async ({ store }) => (await store.accounts.findUserByEmail('ops@example.com'))!.password_hash);
    assert.equal(await verifyPassword(PASSWORD, hash), true, 'the trailing newline is not part of the password');

    const none = await tessera('user', 'create', '--email', 'none@example.com');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no password given: pipe it in with --password-stdin, or run the command at a terminal/);
    const empty = await tessera.withStdin('', 'user', 'create', '--email', 'none@example.com', '--password-stdin');
    assert.match(empty.stderr, /empty password/);
    const weak = await tessera.withStdin('password\n', 'user', 'create', '--email', 'none@example.com', '--password-stdin');
    assert.equal(weak.status, 2);

    const legacy = await tessera('user', 'create', '--email', 'dev@example.com', '--password', PASSWORD, '--json');
    assert.equal(legacy.status, 0, legacy.stderr);
    assert.equal(legacy.json().is_admin, false);
  });

  it('asks for the password twice at a terminal', async () => {
    const answers = [PASSWORD, PASSWORD];
    const asked: string[] = [];
    let stdout = '';
    let stderr = '';
    const status = await runCli(['user', 'create', '--email', 'prompted@example.com', '--json'], {
      env: { ...process.env, DATABASE_URL: tessera.databaseUrl },
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      readStdin: async () => '',
      promptSecret: async (question) => {
        asked.push(question);
        return answers.shift()!;
      },
    });
    assert.equal(status, 0, stderr);
    assert.deepEqual(asked, ['New password: ', 'Repeat the password: ']);
    assert.equal(JSON.parse(stdout).email, 'prompted@example.com');

    const mismatch = await runCli(['user', 'set-password', '--email', 'prompted@example.com'], {
      env: { ...process.env, DATABASE_URL: tessera.databaseUrl },
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr = text) },
      readStdin: async () => '',
      promptSecret: async (question) => (question.startsWith('New') ? PASSWORD : 'something else entirely'),
    });
    assert.equal(mismatch, 2);
    assert.match(stderr, /the two passwords were not the same/);
  });

  it('lists and shows users', async () => {
    const listed = await tessera('user', 'list', '--json');
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.json().users.map((user: { email: string }) => user.email), ['ops@example.com', 'dev@example.com', 'prompted@example.com']);
    assert.equal(JSON.stringify(listed.json()).includes('password'), false, 'no password hash is printed');
    assert.match((await tessera('user', 'list')).stdout, /ops@example\.com\s+\S+\s+admin\s+verified/);

    const shown = await tessera('user', 'show', 'Ops@Example.com', '--json');
    assert.equal(shown.status, 0, shown.stderr);
    assert.equal(shown.json().name, 'Ops');
    assert.equal(shown.json().two_factor, false);
    const byId = await tessera('user', 'show', shown.json().id);
    assert.match(byId.stdout, /instance admin: yes/);
    const missing = await tessera('user', 'show', 'nobody@example.com');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no user nobody@example\.com/);
  });

  it('sets a password from standard input: the old one stops working, sessions end, the user is mailed', async () => {
    const replaced = 'another long and quiet river';
    const result = await tessera.withStdin(replaced, 'user', 'set-password', '--email', 'dev@example.com', '--password-stdin', '--json');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.json().email, 'dev@example.com');
    await database(async ({ store }) => {
      const db = store.kysely;
      const user = (await store.accounts.findUserByEmail('dev@example.com'))!;
      assert.equal(await verifyPassword(replaced, user.password_hash), true);
      assert.equal(await verifyPassword(PASSWORD, user.password_hash), false);
      const events = await db.selectFrom('audit_events').select(['type', 'actor']).where('user_id', '=', user.id).execute();
      assert.ok(events.some((event) => event.type === 'password.changed_by_admin' && event.actor === 'system:cli'));
      const mail = await db.selectFrom('outbox').select('subject').where('to_address', '=', 'dev@example.com').execute();
      assert.ok(mail.some((message) => /password was changed/.test(message.subject)));
    });
    const missing = await tessera.withStdin(replaced, 'user', 'set-password', '--email', 'nobody@example.com', '--password-stdin');
    assert.equal(missing.status, 2);
  });

  it('lists and shows organizations and projects', async () => {
    orgId = (await tessera('org', 'create', '--name', 'Acme', '--owner', 'ops@example.com', '--json')).json().id;
    const other = (await tessera('org', 'create', '--name', 'Beta', '--owner', 'dev@example.com', '--json')).json().id;
    projectId = (await tessera('project', 'create', '--org', orgId, '--name', 'Web', '--json')).json().id;
    await tessera('project', 'create', '--org', other, '--name', 'Data');

    const orgs = await tessera('org', 'list', '--json');
    assert.deepEqual(orgs.json().organizations.map((org: { name: string }) => org.name), ['Acme', 'Beta']);
    const shown = await tessera('org', 'show', orgId, '--json');
    assert.deepEqual(shown.json().members, [{ user_id: shown.json().members[0].user_id, email: 'ops@example.com', role: 'owner' }]);
    assert.deepEqual(shown.json().projects.map((project: { name: string }) => project.name), ['Web']);
    assert.match((await tessera('org', 'show', orgId)).stdout, /ops@example\.com\s+owner/);
    assert.match((await tessera('org', 'show', 'missing')).stderr, /no organization missing/);

    assert.deepEqual((await tessera('project', 'list', '--json')).json().projects.map((project: { name: string }) => project.name).sort(), ['Data', 'Web']);
    assert.deepEqual((await tessera('project', 'list', '--org', orgId, '--json')).json().projects.map((project: { id: string }) => project.id), [projectId]);
    assert.match((await tessera('project', 'list')).stdout, /Web\s+\S+\s+Acme/);
    const project = await tessera('project', 'show', projectId, '--json');
    assert.equal(project.json().organization_name, 'Acme');
    assert.equal((await tessera('project', 'show', 'missing')).status, 2);
  });

  it('lists, shows, rotates the secret of and deletes clients', async () => {
    const made = (await tessera('client', 'create', '--name', 'Ledger', '--redirect-uri', 'https://ledger.example/cb', '--scope', 'openid project:read', '--json')).json();
    const mobile = (await tessera('client', 'create', '--name', 'Mobile', '--redirect-uri', 'com.example.app:/cb', '--public', '--json')).json();

    const listed = await tessera('client', 'list', '--json');
    assert.deepEqual(listed.json().clients.map((client: { name: string }) => client.name), ['Ledger', 'Mobile']);
    assert.equal(JSON.stringify(listed.json()).includes('secret'), false, 'no secret or its hash is printed');
    assert.match((await tessera('client', 'list')).stdout, /Ledger\s+registered by the operator\s+confidential/);

    const shown = await tessera('client', 'show', made.client_id, '--json');
    assert.equal(shown.json().scope, 'openid project:read');
    assert.deepEqual(shown.json().redirect_uris, ['https://ledger.example/cb']);
    assert.match((await tessera('client', 'show', made.client_id)).stdout, /scope ceiling: openid project:read/);

    const rotated = await tessera('client', 'rotate-secret', made.client_id, '--json');
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.match(rotated.json().client_secret, /^pcs_/);
    assert.notEqual(rotated.json().client_secret, made.client_secret);
    const publicRotate = await tessera('client', 'rotate-secret', mobile.client_id);
    assert.equal(publicRotate.status, 2);
    assert.match(publicRotate.stderr, /is a public client: it has no secret to rotate/);

    const unconfirmed = await tessera('client', 'delete', mobile.client_id);
    assert.equal(unconfirmed.status, 2);
    assert.match(unconfirmed.stderr, /add --yes/);
    const deleted = await tessera('client', 'delete', mobile.client_id, '--yes', '--json');
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.equal(deleted.json().name, 'Mobile');
    assert.match((await tessera('client', 'show', mobile.client_id)).stderr, new RegExp(`There is no registered client ${mobile.client_id}`));
    await database(async ({ store }) => {
      const db = store.kysely;
      const events = await db.selectFrom('audit_events').select('type').where('client_id', 'in', [made.client_id, mobile.client_id]).execute();
      assert.deepEqual(events.map((event) => event.type).sort(), ['client.deleted', 'client.secret_rotated']);
    });
  });

  it('verifies any registered client, and says why a metadata document client cannot be', async () => {
    const made = (await tessera('client', 'create', '--name', 'Operator App', '--redirect-uri', 'https://op.example/cb', '--json')).json();
    const verified = await tessera('app', 'verify', made.client_id, '--json');
    assert.equal(verified.status, 0, verified.stderr);
    assert.deepEqual(verified.json(), { client_id: made.client_id, name: 'Operator App', verified: true });
    assert.equal((await tessera('client', 'show', made.client_id, '--json')).json().verified, true);

    const cimd = await tessera('app', 'verify', 'https://notes.example/client.json');
    assert.equal(cimd.status, 2);
    assert.match(cimd.stderr, /is a Client ID Metadata Document client: it is not registered here/);
    const unknown = await tessera('app', 'verify', 'pca_nobody');
    assert.match(unknown.stderr, /There is no registered client pca_nobody/);
  });
});
