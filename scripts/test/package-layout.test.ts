// `dist:dir` end to end on Linux: bundles → electron-builder → release/linux*-unpacked, then the
// unpacked resources run a task. The Electron binary cannot be downloaded here, so electronDist
// (TASKDOCK_ELECTRON_DIST) points at a STAND-IN directory made below: a shell script named
// `electron`, a version file and licence files. The packaged `taskdock` executable is therefore
// not a real Electron and is never started; this checks the package layout and the bundled
// services, not the desktop app. Needs the bundled redis-server (npm run prepare:resources):
// skipped where it has not been built (CI does not build it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256File } from '../lib/fetch-verified.ts';
import { REDIS_DIR, type RedisLock, ROOT } from '../lib/redis-manifest.ts';

const target = `${process.platform}-${process.arch}`;
const lockFile = path.join(REDIS_DIR, target, 'redis-server.lock.json');
const skip =
  process.platform !== 'linux'
    ? 'the stand-in Electron is Linux-shaped'
    : !existsSync(lockFile)
      ? 'no bundled redis-server built here (npm run prepare:resources)'
      : !existsSync(path.join(ROOT, 'desktop', 'src', 'main.ts'))
        ? 'no desktop main yet'
        : false;

const unpacked = path.join(
  ROOT,
  'release',
  process.arch === 'x64' ? 'linux-unpacked' : `linux-${process.arch}-unpacked`,
);
const resources = path.join(unpacked, 'resources');

function node(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('npm run dist:dir (with a stand-in Electron)', { skip }, () => {
  let standIn: string;
  before(async () => {
    standIn = await mkdtemp(path.join(os.tmpdir(), 'taskdock-electron-stand-in-'));
    await mkdir(path.join(standIn, 'resources'));
    const fake = path.join(standIn, 'electron');
    await writeFile(
      fake,
      '#!/bin/sh\necho "stand-in for Electron, not a real build" >&2\nexit 1\n',
    );
    await chmod(fake, 0o755);
    const electron = createRequire(path.join(ROOT, 'desktop', 'package.json'))(
      'electron/package.json',
    ) as { version: string };
    await writeFile(path.join(standIn, 'version'), electron.version);
    await writeFile(path.join(standIn, 'LICENSE'), 'stand-in');
    await writeFile(path.join(standIn, 'LICENSES.chromium.html'), 'stand-in');
    node(['scripts/build.ts']);
    node(['scripts/dist.ts', '--dir'], { ...process.env, TASKDOCK_ELECTRON_DIST: standIn });
  });
  after(async () => {
    await rm(standIn, { recursive: true, force: true });
  });

  it('packs one redis-server, the locked one, with its licence', async () => {
    const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as RedisLock;
    const redisDir = path.join(resources, 'redis');
    assert.deepEqual(
      readdirSync(redisDir).filter((f) => f.startsWith('redis-server') && !f.endsWith('.json')),
      ['redis-server'],
    );
    assert.equal(await sha256File(path.join(redisDir, 'redis-server')), lock.sha256);
    assert.ok(existsSync(path.join(redisDir, 'COPYING')));
    const version = spawnSync(path.join(redisDir, 'redis-server'), ['--version'], {
      encoding: 'utf8',
    });
    assert.match(version.stdout, /v=7\.0\.15 /);
  });

  it('has no node_modules in app.asar, and bundles without source maps beside it', () => {
    const asar = createRequire(path.join(ROOT, 'desktop', 'package.json'))('@electron/asar') as {
      listPackage(file: string, opts: { isPack: boolean }): string[];
    };
    const files = asar.listPackage(path.join(resources, 'app.asar'), { isPack: false }).sort();
    assert.deepEqual(files, ['/THIRD-PARTY-NOTICES.txt', '/main.mjs', '/package.json']);
    const bundles = readdirSync(path.join(resources, 'bundles')).sort();
    for (const f of ['server.mjs', 'worker.mjs', 'THIRD-PARTY-NOTICES.txt'])
      assert.ok(bundles.includes(f), f);
    assert.deepEqual(
      bundles.filter((f) => f.endsWith('.map')),
      [],
    );
    assert.ok(!existsSync(path.join(resources, 'app')), 'no unpacked app folder');
  });

  it('runs a task end to end from the unpacked resources (plain node for Electron-as-Node)', () => {
    const out = node(['scripts/smoke-bundles.ts', '--resources', resources]);
    assert.match(out, /completed/);
    assert.match(out, /nothing left running/);
  });
});
