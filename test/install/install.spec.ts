/**
 * The packages as a user gets them: `npm pack` both, install the tarballs into a fresh Nest 12
 * app outside the repository (peers from the registry, no links into the repo), compile it
 * with `strict` and `skipLibCheck: false`, and run it against the test Redis. In three steps:
 * the core alone (no Express, no Bull Board installed), then with the console, then on another
 * NestJS 12 minor than the workspace's, then with the newest versions in the peer ranges (the
 * workspace pins the oldest).
 */
import { expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packPackages, peerRanges, REPO, runCommand as run, workspacePin as pin } from '../../tools/packed-packages.js';
import { testRedisUrl } from '../support/test-app.js';

const TEMPLATE = join(REPO, 'test', 'install', 'app');
const OTHER_NEST_MINOR = '12.3.3';

const peers = peerRanges();
/** The range a package declares for peer `name`. */
function peerRange(name: string): string {
  const range = peers[name];
  if (!range) throw new Error(`no package declares a peer range for ${name}`);
  return range;
}

/** The newest published version of `name` in `range` (what npm installs for it). */
async function newestIn(name: string, range: string, cwd: string): Promise<string> {
  const listed = JSON.parse(await run('npm', ['view', `${name}@${range}`, 'version', '--json'], cwd)) as
    string | string[];
  return Array.isArray(listed) ? listed[listed.length - 1] : listed;
}

function installedVersion(app: string, name: string): string {
  return (JSON.parse(readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;
}

/** The last line the app printed, parsed. */
function outcome(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

const timings: string[] = [];
async function stage<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const value = await work();
  timings.push(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return value;
}

test('the packed packages install, compile under strict settings and run in a fresh Nest 12 app', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'redurable-install-'));
  const app = join(tmp, 'app');
  const env = { REDIS_URL: testRedisUrl(), PREFIX: `install-${randomUUID().slice(0, 8)}` };
  try {
    const tarballs = await stage('pack', () => packPackages(tmp));
    const tarball = (name: keyof typeof tarballs) => tarballs[name];
    mkdirSync(app);
    cpSync(join(TEMPLATE, 'tsconfig.json'), join(app, 'tsconfig.json'));
    cpSync(join(TEMPLATE, 'src'), join(app, 'src'), { recursive: true });
    const manifest = {
      name: 'greetings-app',
      private: true,
      type: 'module',
      dependencies: {
        redurable: `file:../${tarball('redurable')}`,
        '@nestjs/common': pin('@nestjs/common'),
        '@nestjs/core': pin('@nestjs/core'),
        bullmq: pin('bullmq'),
        ioredis: pin('ioredis'),
        'reflect-metadata': pin('reflect-metadata'),
        rxjs: pin('rxjs'),
        'class-validator': pin('class-validator'),
        'class-transformer': pin('class-transformer'),
      } as Record<string, string>,
      devDependencies: { typescript: pin('typescript'), '@types/node': pin('@types/node') } as Record<string, string>,
    };
    const install = async () => {
      writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
      await run('npm', ['install', '--no-audit', '--no-fund'], app);
    };

    // 1. The core alone.
    await stage('core: install', install);
    expect(existsSync(join(app, 'node_modules', 'express'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', '@bull-board'))).toBe(false);
    const shipped = readdirSync(join(app, 'node_modules', 'redurable', 'dist'), { recursive: true }).map(String);
    expect(shipped.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(shipped).toEqual(
      expect.arrayContaining([
        'index.js',
        'index.d.ts',
        'index.js.map',
        join('testing', 'index.js'),
        join('workflow', 'index.js'),
        join('store', 'lua', 'startWorkflow.lua'),
        join('store', 'lua', 'includes', 'append-events.lua'),
      ]),
    );
    expect((await run('npx', ['--no-install', 'redurable', '--version'], app)).trim()).toBe('0.1.0');
    await stage('core: compile', () => run('npx', ['--no-install', 'tsc', '-p', '.'], app));
    const core = await stage('core: run', () => run('node', ['dist/main.js'], app, env));
    expect(outcome(core)).toEqual({ result: 'HELLO, ADA!', stage: 'waiting for punctuation' });
    // The installed command reads what the app did.
    const described = JSON.parse(
      await run(
        'npx',
        ['--no-install', 'redurable', 'workflow', 'describe', 'greet-core', '--json', '--prefix', env.PREFIX],
        app,
        env,
      ),
    );
    expect(described).toMatchObject({
      workflowId: 'greet-core',
      workflowType: 'GreetingWorkflow',
      status: 'completed',
      result: 'HELLO, ADA!',
    });

    // 2. With the console, over HTTP.
    manifest.dependencies['redurable-console'] = `file:../${tarball('redurable-console')}`;
    manifest.dependencies['@nestjs/platform-express'] = pin('@nestjs/platform-express');
    cpSync(join(TEMPLATE, 'console', 'server.ts'), join(app, 'src', 'server.ts'));
    await stage('console: install', install);
    await stage('console: compile', () => run('npx', ['--no-install', 'tsc', '-p', '.'], app));
    const served = {
      result: 'HELLO, ADA!',
      stage: 'waiting for punctuation',
      board: { status: 200, isBullBoard: true },
      queues: ['{greetings-activities}', '{greetings-workflows}', '{schedules}'],
      workflowStatus: 'completed',
    };
    const http = await stage('console: run', () =>
      run('node', ['dist/server.js'], app, { ...env, PREFIX: `${env.PREFIX}-http` }),
    );
    expect(outcome(http)).toEqual(served);

    // 3. Another NestJS 12 minor than the workspace's.
    for (const name of ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express'])
      manifest.dependencies[name] = OTHER_NEST_MINOR;
    await stage(`nest ${OTHER_NEST_MINOR}: install`, install);
    const tree = JSON.parse(await run('npm', ['ls', '@nestjs/core', '--all', '--json'], app)) as object;
    const versions = new Set(
      [...JSON.stringify(tree).matchAll(/"@nestjs\/core":\{"version":"([^"]+)"/g)].map((m) => m[1]),
    );
    expect([...versions]).toEqual([OTHER_NEST_MINOR]);
    await stage(`nest ${OTHER_NEST_MINOR}: compile`, () => run('npx', ['--no-install', 'tsc', '-p', '.'], app));
    const other = await stage(`nest ${OTHER_NEST_MINOR}: run`, () =>
      run('node', ['dist/server.js'], app, { ...env, PREFIX: `${env.PREFIX}-other` }),
    );
    expect(outcome(other)).toEqual(served);

    // 4. The newest versions in the peer ranges, as `npm install redurable bullmq ioredis` picks
    //    them, with the README's fix for an upstream package whose declarations break strict
    //    builds (ioredis 6.1 imports the untyped `redis-errors`: its types come from @types).
    for (const name of Object.keys(manifest.dependencies))
      if (!manifest.dependencies[name].startsWith('file:')) manifest.dependencies[name] = peerRange(name);
    manifest.devDependencies['@types/redis-errors'] = 'latest';
    // A new app's install: nothing locked from the steps before.
    rmSync(join(app, 'package-lock.json'), { force: true });
    rmSync(join(app, 'node_modules'), { recursive: true, force: true });
    await stage('newest peers: install', install);
    const newest = await newestIn('ioredis', peerRange('ioredis'), app);
    expect(installedVersion(app, 'ioredis')).toBe(newest);
    expect(installedVersion(app, 'bullmq')).toBe(await newestIn('bullmq', peerRange('bullmq'), app));
    await stage('newest peers: compile', () => run('npx', ['--no-install', 'tsc', '-p', '.'], app));
    const latest = await stage('newest peers: run', () =>
      run('node', ['dist/server.js'], app, { ...env, PREFIX: `${env.PREFIX}-newest` }),
    );
    expect(outcome(latest)).toEqual(served);
  } finally {
    console.log(`install test stages: ${timings.join(', ')}`);
    rmSync(tmp, { recursive: true, force: true });
  }
}, 360_000);
