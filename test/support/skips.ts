/**
 * Tests that cannot run here (no PostgreSQL, no Redis, no Chromium) register as skipped node:test
 * suites with a reason, so the run's summary (scripts/test.mjs) counts and names them instead of
 * their silently not existing.
 *
 * A reason reads `<what> — <why>`, e.g. `PostgreSQL storage variants — TEST_DATABASE_URL is not
 * set`; the summary prints one line per distinct reason with how many were skipped. A reason
 * without ` — ` is printed with the names of the skipped suites instead.
 */
import { relative } from 'node:path';
import { describe } from 'node:test';
import { fileURLToPath } from 'node:url';

const SEPARATOR = ' — ';

/** The reason a skipped suite or test reports: `<what> — <why>`. */
export function skipReason(what: string, why: string): string {
  return `${what}${SEPARATOR}${why}`;
}

/** node:test's `skip` option: false when `why` is undefined (the suite runs), else the reason. */
export function skipWhen(what: string, why: string | undefined): { skip: string | false } {
  return { skip: why === undefined ? false : skipReason(what, why) };
}

/**
 * Registers a skipped suite standing for suites that are not registered at all (such as the
 * PostgreSQL variant of a `for (const target of storageTargets())` loop). It is named after the
 * test-file line that called into test/support. Only while a test file is loading (at its top
 * level or in a `describe` body): from inside a running test or hook it does nothing, because
 * node:test cannot add a suite there (storageTargets()[0] in a `before` hook is fine).
 */
export function registerSkippedSuite(variant: string, what: string, why: string): void {
  const stack = new Error().stack ?? '';
  if (/\bat (async )?(TestHook|Test|Suite)\.(run|runHook)\b/.test(stack)) return;
  describe(`${variant} of the suite at ${callerOutsideSupport(stack)}`, { skip: skipReason(what, why) }, () => {});
}

/** The first stack frame outside test/support and node internals, as `test/…/x.test.ts:12`. */
function callerOutsideSupport(stack: string): string {
  for (const line of stack.split('\n').slice(1)) {
    const match = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?$/.exec(line.trim());
    if (!match) continue;
    const path = match[1]!.startsWith('file://') ? fileURLToPath(match[1]!) : match[1]!;
    if (path.includes('/test/support/') || path.includes('/node_modules/')) continue;
    return `${relative(process.cwd(), path)}:${match[2]}`;
  }
  return 'an unknown place';
}
