/**
 * The import graph of the packages, checked with dependency-cruiser against the rules in
 * .dependency-cruiser.cjs (no cycles; the layers of packages/server/src; database drivers only in
 * store/; the client packages import nothing from the server). `npm run depcruise` prints the same
 * check as dependency-cruiser's own report.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCES = ['packages/server/src', 'packages/client/src', 'packages/resource-server/src'];

function describeViolation(violation: IViolation): string {
  const path = violation.cycle?.length ? [violation.from, ...violation.cycle.map((step) => step.name)] : [violation.from, violation.to];
  return `${violation.rule.name}: ${path.join(' → ')}`;
}

it('import graph has no cycles and respects layer rules', async () => {
  // baseDir: paths are relative to the repository root, as the rules expect, wherever the run starts.
  const options = { ...(await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'))), baseDir: ROOT };
  const tsConfig = extractTSConfig(join(ROOT, 'packages/server/tsconfig.json'));
  const { output } = await cruise(SOURCES, options, {}, { tsConfig });
  assert.equal(typeof output, 'object', 'dependency-cruiser returned a report, not a result');
  const result = output as ICruiseResult;
  const violations = result.summary.violations.filter((violation) => violation.rule.severity === 'error');
  assert.ok(result.summary.totalCruised > 0, 'dependency-cruiser found no modules');
  if (violations.length > 0) {
    const lines = violations.map((violation) => `  ${describeViolation(violation)}`).sort();
    assert.fail(`${violations.length} import-graph violation(s) of the rules in .dependency-cruiser.cjs:\n${lines.join('\n')}`);
  }
});
