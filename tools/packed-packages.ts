/**
 * The packages as a user gets them, for tests and checks that build an app outside the
 * repository: `npm pack` of `redurable` and `redurable-console`, the versions the workspace pins
 * for their peers, and a command runner. Used by the install test (test/install) and by
 * `npm run docs:check`, which runs the getting-started example (tools/docs/getting-started.js).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface PackageJson {
  name?: string;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;

/** The workspace's root (this file runs from tools/ under ts-jest and from dist/tools/ once built). */
export const REPO = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readJson(manifest).name === 'redurable-workspace') return dir;
  }
  throw new Error('the workspace root (package.json named redurable-workspace) was not found');
})();

/** The packages that are published, by name, and their folders. */
export const PACKAGES = {
  redurable: join(REPO, 'libs', 'redurable'),
  'redurable-console': join(REPO, 'libs', 'redurable-console'),
} as const;
export type PackageName = keyof typeof PACKAGES;

/** The version the workspace pins for `name` (its root devDependencies: the oldest of each peer range). */
export function workspacePin(name: string): string {
  const version = readJson(join(REPO, 'package.json')).devDependencies?.[name];
  if (!version) throw new Error(`the workspace pins no version of ${name} (root package.json devDependencies)`);
  return version;
}

/** The peer ranges the published packages declare. */
export function peerRanges(): Record<string, string> {
  return Object.assign(
    {},
    ...Object.values(PACKAGES).map((dir) => readJson(join(dir, 'package.json')).peerDependencies),
  );
}

/** The peers a package needs installed next to it (its optional peers left out). */
export function requiredPeers(name: PackageName): string[] {
  const manifest = readJson(join(PACKAGES[name], 'package.json'));
  return Object.keys(manifest.peerDependencies ?? {}).filter(
    (peer) => !manifest.peerDependenciesMeta?.[peer]?.optional,
  );
}

/**
 * Runs a command and resolves with its stdout; fails with its output. NODE_OPTIONS is not passed
 * on (Jest's flags are not the app's).
 */
export function runCommand(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<string> {
  const { NODE_OPTIONS: _ignored, ...base } = process.env;
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd, env: { ...base, ...env }, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new Error(
              `${cmd} ${args.join(' ')} failed in ${cwd}: ${err.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
            ),
          );
        else resolve(stdout);
      },
    );
  });
}

/**
 * Packs the built packages (`npm run build` first) into `dest`; resolves with each tarball's
 * file name there, for a dependency `file:<dest>/<name>`.
 */
export async function packPackages(dest: string): Promise<Record<PackageName, string>> {
  const names = Object.keys(PACKAGES) as PackageName[];
  for (const name of names) await runCommand('npm', ['pack', '--pack-destination', dest], PACKAGES[name]);
  const files = readdirSync(dest);
  const tarball = (name: PackageName) => {
    const file = files.find((f) => new RegExp(`^${name}-\\d.*\\.tgz$`).test(f));
    if (!file) throw new Error(`npm pack left no tarball of ${name} in ${dest}`);
    return file;
  };
  return { redurable: tarball('redurable'), 'redurable-console': tarball('redurable-console') };
}
