/**
 * Import-graph rules for the workspace, checked by test/unit/import-graph.test.ts (and by
 * `npm run depcruise` for the full dependency-cruiser report).
 *
 * Layers of packages/server/src, lowest first:
 *   config.ts            nothing from the app folders
 *   ops/                 config only
 *   store/               config, ops; never core/, platform/, http/, cli/, server.ts, runtime.ts
 *   core/                store only through store/index.ts and store/schema.ts
 *   platform/            core, store; never http/ or cli/
 *   http/                never cli/
 *   server.ts, runtime.ts, cli/   composition roots
 * Type-only imports (`import type`) count: tsPreCompilationDeps is true.
 */
const { join } = require('node:path');

const SRC = '^packages/server/src/';
const app = (...folders) => `${SRC}(${folders.join('|')})/`;
const ROOTS = `${SRC}(server|runtime)\\.ts$`;
const CONFIG = `${SRC}config(\\.ts$|/)`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'config-imports-no-app-code',
      severity: 'error',
      comment: 'src/config* is read by every layer, so it imports nothing from the app folders.',
      from: { path: CONFIG },
      to: { path: [app('core', 'platform', 'store', 'http', 'cli', 'ops'), ROOTS] },
    },
    {
      name: 'ops-imports-only-config',
      severity: 'error',
      comment: 'ops/ (availability, health, metrics, redis) only imports config and itself.',
      from: { path: `${SRC}ops/` },
      to: { path: SRC, pathNot: [`${SRC}ops/`, CONFIG] },
    },
    {
      name: 'store-imports-no-upper-layer',
      severity: 'error',
      comment: 'store/ is below core/, platform/, http/ and cli/.',
      from: { path: `${SRC}store/` },
      to: { path: [app('core', 'platform', 'http', 'cli'), ROOTS] },
    },
    {
      name: 'core-imports-no-upper-layer',
      severity: 'error',
      comment: 'core/ (crypto, oauth, oidc, clients) is below platform/, http/ and cli/.',
      from: { path: `${SRC}core/` },
      to: { path: [app('platform', 'http', 'cli'), ROOTS] },
    },
    {
      name: 'core-uses-store-through-its-index',
      severity: 'error',
      comment: 'core/ reaches the store through store/index.ts and its types in store/schema.ts, not store internals.',
      from: { path: `${SRC}core/` },
      to: { path: `${SRC}store/`, pathNot: `${SRC}store/(index|schema)\\.ts$` },
    },
    {
      name: 'platform-imports-no-http-or-cli',
      severity: 'error',
      from: { path: `${SRC}platform/` },
      to: { path: [app('http', 'cli'), ROOTS] },
    },
    {
      name: 'http-imports-no-cli',
      severity: 'error',
      from: { path: `${SRC}http/` },
      to: { path: app('cli') },
    },
    {
      name: 'database-drivers-only-in-store',
      severity: 'error',
      comment: 'kysely, pg and better-sqlite3 are imported under packages/server/src/store/ only.',
      from: { pathNot: `${SRC}store/` },
      to: { path: '(^|/)node_modules/(kysely|pg|better-sqlite3|@types/(pg|better-sqlite3))/' },
    },
    {
      name: 'client-packages-import-no-server',
      severity: 'error',
      comment: 'packages/client and packages/resource-server are published on their own: nothing from packages/server.',
      from: { path: '^packages/(client|resource-server)/src/' },
      to: { path: ['^packages/server/', '(^|/)node_modules/@tessera/server/'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing (a file moved or deleted by a refactor).',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    // Absolute: with a relative name TypeScript resolves its `extends` from the wrong folder.
    tsConfig: { fileName: join(__dirname, 'packages/server/tsconfig.json') },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^packages/[^/]+/dist/' },
    moduleSystems: ['es6', 'cjs'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: false,
  },
};
