// Runs the getting-started example as a reader would: the blocks marked `<!-- app: src/x.ts -->`
// are written into a fresh Nest app outside the repository, with the packed packages installed
// (peers at the versions the workspace pins, as the install test does); the app is compiled
// with tsc and `node dist/main.js` runs against a private redis-server on a free port (REDIS_URL;
// PORT is a free port too, for an app that listens). Every `<!-- expect: text -->` line of the
// page must appear in its output within the time limit; then the app is stopped (SIGTERM, then
// SIGKILL), the server too, and the folder removed (kept with DOCS_KEEP_APP=1).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { ROOT } from './pages.js';

const RUN_TIMEOUT_MS = Number(process.env.DOCS_APP_TIMEOUT_MS ?? 60_000);
const STOP_GRACE_MS = 5_000;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023'],
    types: ['node'],
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: true,
    outDir: 'dist',
    rootDir: 'src',
  },
  include: ['src'],
};

/** The compiled helpers the test suite uses too (`npm run build` makes them). */
async function helpers() {
  const dist = join(ROOT, 'dist', 'tools');
  if (!existsSync(join(dist, 'packed-packages.js')))
    throw new Error('dist/tools/ is missing: run `npm run build` before `npm run docs:check`');
  const [packed, redis] = await Promise.all([
    import(join(dist, 'packed-packages.js')),
    import(join(dist, 'embedded-redis.js')),
  ]);
  return { ...packed, ...redis };
}

/** The npm packages the blocks import (`@nestjs/core`, `redurable`), builtins left out. */
function importedPackages(blocks) {
  const names = new Set();
  for (const block of blocks)
    for (const { fileName } of ts.preProcessFile(block.code, true, true).importedFiles) {
      if (fileName.startsWith('.') || fileName.startsWith('node:')) continue;
      const parts = fileName.split('/');
      names.add(fileName.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
    }
  return names;
}

/**
 * @param {{ rel: string, blocks: { line: number, code: string, app?: string }[], expects: { line: number, text: string }[] }} page
 * @param {(line: string) => void} log
 * @returns {Promise<{ problems: { where: string, message: string }[], summary: string }>}
 */
export async function runGettingStarted(page, log) {
  const problems = [];
  const fail = (line, message) => problems.push({ where: `${page.rel}:${line}`, message });
  const blocks = page.blocks.filter((b) => b.app);
  if (blocks.length === 0) fail(1, 'no block marked <!-- app: src/<path>.ts -->: the example cannot run');
  else if (!blocks.some((b) => b.app.replace(/^\.\//, '') === 'src/main.ts'))
    fail(blocks[0].line, 'no block marked <!-- app: src/main.ts -->: the runner starts dist/main.js');
  for (const b of blocks)
    if (!/^(\.\/)?src\/[\w./-]+\.ts$/.test(b.app) || b.app.includes('..'))
      fail(b.line, `<!-- app: ${b.app} -->: an app file is src/<path>.ts`);
  if (page.expects.length === 0) fail(1, 'no <!-- expect: text --> line: nothing to check the run against');
  if (problems.length > 0) return { problems, summary: 'not run' };

  const h = await helpers();
  const timings = [];
  const stage = async (name, work) => {
    const began = Date.now();
    log(`  example: ${name}...`);
    try {
      return await work();
    } finally {
      timings.push(`${name} ${((Date.now() - began) / 1000).toFixed(1)} s`);
    }
  };
  const tmp = mkdtempSync(join(tmpdir(), 'redurable-docs-app-'));
  const app = join(tmp, 'app');
  let redis;
  try {
    const tarballs = await stage('pack', () => h.packPackages(tmp));
    for (const b of blocks) {
      const file = join(app, b.app);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, b.code);
    }
    const dependencies = {};
    const add = (name) => {
      if (dependencies[name]) return;
      if (name in tarballs) {
        dependencies[name] = `file:../${tarballs[name]}`;
        for (const peer of h.requiredPeers(name)) if (!(peer in tarballs)) add(peer);
      } else dependencies[name] = h.workspacePin(name);
    };
    add('redurable');
    for (const name of importedPackages(blocks)) add(name);
    const manifest = {
      name: 'redurable-getting-started',
      private: true,
      type: 'module',
      dependencies,
      devDependencies: { typescript: h.workspacePin('typescript'), '@types/node': h.workspacePin('@types/node') },
    };
    writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
    await stage('install', () =>
      h.runCommand('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], app, {}, 300_000),
    );
    try {
      await stage('compile', () => h.runCommand('npx', ['--no-install', 'tsc', '-p', '.'], app));
    } catch (err) {
      fail(blocks[0].line, `the example app does not compile:\n${err.message}`);
      return { problems, summary: timings.join(', ') };
    }
    redis = await h.startEmbeddedRedis();
    const env = { REDIS_URL: redis.url, PORT: String(await h.freePort()) };
    const run = await stage('run', () =>
      runUntilSeen(
        app,
        env,
        page.expects.map((e) => e.text),
      ),
    );
    for (const e of page.expects)
      if (!run.seen.has(e.text)) fail(e.line, `the example's output never showed: ${e.text}`);
    if (run.seen.size < page.expects.length)
      problems.push({
        where: page.rel,
        message: `${run.why}; its output:\n${run.output.trimEnd().split('\n').slice(-40).join('\n')}`,
      });
    return { problems, summary: `${run.seen.size}/${page.expects.length} expected lines seen; ${timings.join(', ')}` };
  } finally {
    await redis?.stop();
    if (process.env.DOCS_KEEP_APP) log(`  example: kept in ${app}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

/** Runs the app until every expected text was printed, it exits, or the time is up; then stops it. */
function runUntilSeen(app, env, expected) {
  const { NODE_OPTIONS: _ignored, ...base } = process.env;
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: app,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const seen = new Set();
  return new Promise((resolve) => {
    let why;
    const finish = (reason) => {
      if (why) return;
      why = reason;
      clearTimeout(timer);
      if (child.exitCode !== null || child.signalCode !== null) return resolve({ seen, output, why });
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve({ seen, output, why });
      });
      child.kill('SIGTERM');
    };
    const timer = setTimeout(
      () => finish(`the example was still running after ${RUN_TIMEOUT_MS / 1000} s`),
      RUN_TIMEOUT_MS,
    );
    const read = (chunk) => {
      output += chunk.toString().replace(/\x1b\[[0-9;]*m/g, '');
      for (const text of expected) if (output.includes(text)) seen.add(text);
      if (seen.size === expected.length) finish('done');
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('error', (err) => finish(`the example did not start: ${err.message}`));
    child.once('close', (code, signal) => finish(`the example exited (${signal ?? `code ${code}`})`));
  });
}
