/**
 * A workspace package as its users get it: `npm pack` (which builds it), then `npm install` of the
 * tarball into an empty directory, offline, and a TypeScript file compiled against the installed
 * declarations with the repository's tsc. The package's own dependencies stand in for the registry:
 * they are packed from the repository's node_modules (the versions its lockfile installed) and
 * installed beside it, so no test needs the network.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** npm must not inherit the settings `npm test` passes to its scripts (prefix, workspace, …). */
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));

export interface InstalledPackage {
  /** The consumer project the tarball was installed into. */
  dir: string;
  /** The files in the tarball. */
  files: string[];
  /** Every package under node_modules, scoped ones as `@scope/name`. */
  installed(): string[];
  /** Writes `<name>.ts`, type-checks and compiles it against the installed package (strict, no skipLibCheck). */
  compile(name: string, source: string): Promise<void>;
  /** Runs a compiled file with node. */
  start(name: string): ChildProcessWithoutNullStreams;
  remove(): void;
}

type Packed = Array<{ filename: string; files: Array<{ path: string }> }>;

export async function packAndInstall(workspace: 'client' | 'resource-server', dependencies: string[] = []): Promise<InstalledPackage> {
  const dir = mkdtempSync(join(tmpdir(), `tessera-${workspace}-consumer-`));
  const env = cleanEnv();
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: join(ROOT, 'packages', workspace), env });
  const [packed] = JSON.parse(stdout) as Packed;
  const tarballs = [packed!.filename];
  for (const dependency of dependencies) {
    const { stdout: out } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir, join(ROOT, 'node_modules', dependency)], { cwd: dir, env });
    tarballs.push((JSON.parse(out) as Packed)[0]!.filename);
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...tarballs.map((file) => `./${file}`)], { cwd: dir, env });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      // No @types: the package's declarations must stand on their own (with the DOM's fetch types).
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [], strict: true, skipLibCheck: false },
      include: ['*.ts'],
    }),
  );
  return {
    dir,
    files: packed!.files.map((file) => file.path),
    installed() {
      const modules = join(dir, 'node_modules');
      return readdirSync(modules)
        .filter((name) => !name.startsWith('.'))
        .flatMap((name) => (name.startsWith('@') ? readdirSync(join(modules, name)).map((scoped) => `${name}/${scoped}`) : [name]));
    },
    async compile(name, source) {
      writeFileSync(join(dir, `${name}.ts`), source);
      await run(process.execPath, [TSC, '-p', dir], { cwd: dir, env }).catch((error: { stdout?: string }) => {
        throw new Error(`tsc refused ${name}.ts:\n${error.stdout ?? String(error)}`);
      });
    },
    start(name) {
      return spawn(process.execPath, [join(dir, `${name}.js`)], { cwd: dir, env });
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
