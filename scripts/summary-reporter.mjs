// A node:test reporter for scripts/test.mjs: how many test cases passed, failed and were skipped,
// and every skip with its reason, as one JSON object in the file named by TESSERA_TEST_SUMMARY.
// The file is rewritten after every test: --test-force-exit ends the process as soon as the last
// test is done, before a reporter's stream would be flushed or its loop would end.
//
// Counting:
// - a test case (`it`/`test`) counts once: passed, failed (cancelled counts as failed), skipped or todo;
// - a skipped suite counts as one skipped case: its tests never register, so they cannot be counted;
// - a failed suite (or test) counts as one failed case only when none of its descendants was
//   counted as failed: a failing `after` hook fails its suite although every test passed;
// - a test file whose process failed outside any test (a syntax or import error, an unhandled
//   rejection) counts as one failed case, named by the file.

import { writeFileSync } from 'node:fs';

/** The skip reasons node:test gives tests left out by --test-name-pattern and --test-only. */
const FILTERED = new Set(['test name does not match pattern', "'only' option not set"]);

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* summaryReporter(source) {
  const file = process.env.TESSERA_TEST_SUMMARY;
  if (!file) throw new Error('summary-reporter: set TESSERA_TEST_SUMMARY to the file to write');
  const counts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  /** @type {{ name: string, file: string | undefined, reason: string, suite: boolean }[]} */
  const skips = [];
  /** @type {{ name: string, file: string | undefined }[]} */
  const failures = [];
  /** Per file, failures counted at each nesting level since the level above last completed. */
  const pendingByFile = new Map();

  const write = () => writeFileSync(file, `${JSON.stringify({ ...counts, skips, failures })}\n`);
  write();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    count(event);
    write();
  }
  // Nothing for the reporter's destination: the summary is in the file.
  yield '';

  /** @param {{ type: string, data: any }} event */
  function count(event) {
    const data = event.data;
    const failed = event.type === 'test:fail';
    const suite = data.details?.type === 'suite';
    const failureType = data.details?.error?.failureType;
    // The runner's own entry for a test file: reported as a failure only when the file's process
    // failed outside its tests (with failures inside, it completes without a test:fail event).
    if (data.nesting === 0 && data.file && data.name === data.file && !suite) {
      if (failed && failureType !== 'subtestsFailed') {
        counts.failed += 1;
        failures.push({ name: 'the test file did not run to the end', file: data.file });
      }
      return;
    }
    const pending = pendingByFile.get(data.file) ?? [];
    pendingByFile.set(data.file, pending);
    let below = 0;
    for (let level = data.nesting + 1; level < pending.length; level++) {
      below += pending[level] ?? 0;
      pending[level] = 0;
    }
    let self = 0;
    if (data.skip !== undefined && data.skip !== false && FILTERED.has(data.skip)) {
      // Left out by --test-name-pattern or --test-only: not run, and not a skip to report.
    } else if (data.skip !== undefined && data.skip !== false) {
      counts.skipped += 1;
      skips.push({ name: data.name, file: data.file, reason: data.skip === true ? '' : String(data.skip), suite });
    } else if (data.todo !== undefined && data.todo !== false) {
      if (!suite) counts.todo += 1;
    } else if (failed) {
      if (below === 0 && failureType !== 'subtestsFailed') {
        self = 1;
        counts.failed += 1;
        failures.push({ name: data.name, file: data.file });
      }
    } else if (!suite) {
      counts.passed += 1;
    }
    pending[data.nesting] = (pending[data.nesting] ?? 0) + below + self;
  }
}
