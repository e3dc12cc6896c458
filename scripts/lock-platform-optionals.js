// Adds lockfile entries for platform-specific optional packages that npm left out.
//
// The npm registry mirror on this project's machines serves only the packages for the
// platform it runs on, so `npm install` cannot record other platforms' optional binaries
// (e.g. @unrs/resolver-binding-darwin-arm64), and `npm ci` then refuses the lockfile
// ("Missing: ... from lock file"). Each missing entry gets its version, `optional: true`
// and the os/cpu its name states, so npm ci skips it on other platforms. Run after any
// change to dependencies: `npm install && node scripts/lock-platform-optionals.js`.
import { readFileSync, writeFileSync } from 'node:fs';

const OS = [
  'android',
  'darwin',
  'freebsd',
  'linux',
  'netbsd',
  'openbsd',
  'openharmony',
  'sunos',
  'win32',
  'aix',
  'wasm32',
];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 'riscv64', 's390x', 'loong64', 'mips64el', 'wasm32'];

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = path ? `${path}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[base] || packages[`node_modules/${name}`]) continue;
    const parts = name.split('/').pop().split('-');
    const os = OS.find((o) => parts.includes(o));
    const cpu = CPU.find((c) => parts.includes(c)) ?? (parts.includes('wasm32') ? 'wasm32' : undefined);
    if (!os && !cpu) continue; // not a platform binary: npm records those itself
    packages[`node_modules/${name}`] = {
      version,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...(os && os !== 'wasm32' ? { os: [os] } : {}),
      ...(cpu && cpu !== 'wasm32' ? { cpu: [cpu] } : {}),
    };
    added++;
  }
}
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platform-optionals: added ${added} platform-specific optional entries`);
