#!/usr/bin/env node
// Runs the test files under test/ with Node's test runner (TypeScript through tsx), one process
// per file, several files at a time.
//
//   npm test                          every tier
//   npm test -- unit storage          tiers: the folders test/unit, test/storage, test/e2e, test/browser
//   npm test -- test/e2e/oidc         a path substring (anything with a / or a .) selects files too
//   TEST_FILTER=oidc npm test         a path substring, as before (combined with the above)
//   TEST_CONCURRENCY=4 npm test       test files run at once (default: see CONCURRENCY below)
//   npm test -- unit --test-name-pattern=cimd   arguments starting with -- go to node --test
//
// The spec reporter prints to stdout as the run goes; scripts/summary-reporter.mjs writes counts
// and skip reasons to a temporary file (TESSERA_TEST_SUMMARY), and the run ends with one line,
// `N passed, M failed, K skipped`, then one line per reason something was skipped (see
// test/support/skips.ts). Exit status 1 on any failure.
//
// Services: when TEST_DATABASE_URL or TEST_REDIS_URL is set but nothing answers at its host and
// port, the variable is removed for the run and the tests that need it are skipped, saying so.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, devNull, tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TIERS = ['unit', 'storage', 'e2e', 'browser'];
// Test files at once: one per CPU, at least 2 (the old fixed value). On the 2-CPU machine this was
// written on, the unit tier took 27 s with 1, 18-21 s with 2 and 11-18 s with 4 (a busy machine, so
// rough); e2e and browser files start servers and Chromium and have timing-sensitive tests, and
// were not measured above 2. TEST_CONCURRENCY overrides.
const CONCURRENCY = Number(process.env.TEST_CONCURRENCY) || Math.max(2, availableParallelism());

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? find(path) : path.endsWith('.test.ts') ? [path] : [];
  });
}

function usage(message) {
  console.error(`${message}\nusage: npm test -- [${TIERS.join('|')} ...] [path substring ...] [--node-test-flag ...]`);
  process.exit(2);
}

const tiers = [];
const substrings = process.env.TEST_FILTER ? [process.env.TEST_FILTER] : [];
const nodeFlags = [];
for (const arg of process.argv.slice(2)) {
  if (arg.startsWith('--')) nodeFlags.push(arg);
  else if (TIERS.includes(arg)) tiers.push(arg);
  else if (/[/.]/.test(arg)) substrings.push(arg);
  else usage(`unknown test tier "${arg}": the tiers are ${TIERS.join(', ')} (or give a path substring, such as test/e2e/oidc)`);
}

const files = find(join(ROOT, 'test'))
  .map((path) => relative(ROOT, path))
  .filter((file) => tiers.length === 0 || tiers.some((tier) => file.startsWith(`test${sep}${tier}${sep}`)))
  .filter((file) => substrings.length === 0 || substrings.some((substring) => file.includes(substring)))
  .sort();
if (files.length === 0) usage(`no test files found for ${[...tiers, ...substrings].join(', ') || 'test/'}`);

/** Whether something accepts TCP connections at the URL's host and port within two seconds. */
function answers(url, defaultPort) {
  let host;
  let port;
  try {
    const parsed = new URL(url);
    host = parsed.hostname.replace(/^\[|\]$/g, '');
    port = Number(parsed.port) || defaultPort;
  } catch {
    return Promise.resolve(true); // not a URL we can probe (a socket path, say): let the tests try
  }
  if (!host) return Promise.resolve(true);
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

const env = { ...process.env };
const notes = [];
const where = (url) => {
  try {
    const parsed = new URL(url);
    return parsed.host;
  } catch {
    return 'its address';
  }
};
if (env.TEST_DATABASE_URL && !(await answers(env.TEST_DATABASE_URL, 5432))) {
  env.TEST_DATABASE_SKIP_REASON = `PostgreSQL at ${where(env.TEST_DATABASE_URL)} (TEST_DATABASE_URL) did not answer`;
  delete env.TEST_DATABASE_URL;
}
if (env.TEST_REDIS_URL && !(await answers(env.TEST_REDIS_URL, 6379))) {
  notes.push(`note: Redis at ${where(env.TEST_REDIS_URL)} (TEST_REDIS_URL) did not answer, so the run went on without TEST_REDIS_URL`);
  delete env.TEST_REDIS_URL;
}

const outDir = mkdtempSync(join(tmpdir(), 'tessera-test-summary-'));
const summaryFile = join(outDir, 'summary.json');
env.TESSERA_TEST_SUMMARY = summaryFile;
const args = [
  '--import', 'tsx',
  '--test',
  `--test-concurrency=${CONCURRENCY}`,
  '--test-force-exit',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  `--test-reporter=${join(ROOT, 'scripts', 'summary-reporter.mjs')}`, `--test-reporter-destination=${devNull}`,
  ...nodeFlags,
  ...files,
];
const result = spawnSync(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });

let summary;
try {
  summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
} catch {
  summary = undefined;
} finally {
  rmSync(outDir, { recursive: true, force: true });
}

console.log('');
for (const note of notes) console.log(note);
if (!summary) {
  console.log(`the test runner ended (${result.signal ?? `exit status ${result.status}`}) without a summary`);
  process.exit(1);
}
const todo = summary.todo > 0 ? `, ${summary.todo} todo` : '';
console.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped${todo}`);

// One line per reason: `<what> — <why>` reasons (test/support/skips.ts) by themselves, others with
// the names of what they skipped.
const byReason = new Map();
for (const skip of summary.skips) {
  const reason = skip.reason || 'no reason given';
  byReason.set(reason, [...(byReason.get(reason) ?? []), skip]);
}
for (const [reason, skips] of [...byReason].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))) {
  if (reason.includes(' — ')) {
    console.log(`skipped ${skips.length}: ${reason}`);
  } else {
    const names = [...new Set(skips.map((skip) => skip.name))];
    const shown = names.length > 4 ? [...names.slice(0, 4), `and ${names.length - 4} more`] : names;
    console.log(`skipped ${skips.length}: ${reason} — ${shown.join('; ')}`);
  }
}

process.exit(summary.failed > 0 || result.status !== 0 ? 1 : 0);
