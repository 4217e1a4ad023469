// `dist:dir` end to end on Linux: bundles → electron-builder → release/linux*-unpacked, then the
// unpacked resources run a task (the checks of `npm run smoke:package`, scripts/lib/package-smoke.ts).
// The Electron binary cannot be downloaded here, so electronDist (TASKDOCK_ELECTRON_DIST) points
// at a STAND-IN directory made below: a shell script named `electron`, a version file and licence
// files. The packaged `taskdock` executable is therefore not a real Electron and is never
// started; this checks the package layout and the bundled services (headless.mjs run by plain
// node), not the desktop app. Needs the bundled redis-server (npm run prepare:resources): skipped
// where it has not been built (CI does not build it). The helpers' unit tests always run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  binaryTarget,
  checkBundledRedis,
  findUnpackedResources,
  nonLibcLinkage,
  smokePackage,
} from '../lib/package-smoke.ts';
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
    node(['scripts/dist.ts', '--dir'], {
      ...process.env,
      TASKDOCK_ELECTRON_DIST: standIn,
      TASKDOCK_PUBLISH_REPOSITORY: 'a-fork/taskdock-fork',
    });
  });
  after(async () => {
    await rm(standIn, { recursive: true, force: true });
  });

  it('packs one redis-server for this platform: locked sha256, runs, only the C library', async () => {
    assert.equal(findUnpackedResources(path.join(ROOT, 'release')), resources);
    const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as RedisLock;
    const redis = await checkBundledRedis(resources, lockFile);
    assert.equal(redis.sha256, lock.sha256);
    assert.match(redis.version, /v=7\.0\.15 /);
    assert.ok(redis.linkage.some((line) => line.startsWith('libc.so')));
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

  it('updates from the repository it was built for (TASKDOCK_PUBLISH_REPOSITORY)', () => {
    const updateConfig = readFileSync(path.join(resources, 'app-update.yml'), 'utf8');
    assert.match(updateConfig, /^provider: github$/m);
    assert.match(updateConfig, /^owner: a-fork$/m);
    assert.match(updateConfig, /^repo: taskdock-fork$/m);
  });

  it('runs a task end to end from the unpacked resources (plain node for Electron-as-Node)', async () => {
    // headless.mjs → redis, worker, backend from the resources; a shell task; SIGTERM; no leftovers.
    const result = await smokePackage(resources);
    assert.ok(result.pids.redis && result.pids.worker && result.pids.backend);
  });
});

describe('package smoke helpers', () => {
  it('allows only the C library in ldd output', () => {
    const libc = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f15)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f15)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f15)',
      '\tld-linux-aarch64.so.1 => /lib/ld-linux-aarch64.so.1 (0x0000ffff)',
    ].join('\n');
    assert.deepEqual(nonLibcLinkage(libc), []);
    const ssl = `${libc}\n\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f15)`;
    assert.deepEqual(nonLibcLinkage(ssl), [
      'libssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f15)',
    ]);
  });

  it('tells the platform of an executable from its header', () => {
    const elf = (machine: number) => {
      const b = Buffer.alloc(64);
      b.writeUInt32BE(0x7f454c46, 0);
      b.writeUInt16LE(machine, 18);
      return b;
    };
    assert.equal(binaryTarget(elf(0x3e)), 'linux-x64');
    assert.equal(binaryTarget(elf(0xb7)), 'linux-arm64');
    const macho = Buffer.alloc(64);
    macho.writeUInt32LE(0xfeedfacf, 0);
    macho.writeUInt32LE(0x0100000c, 4);
    assert.equal(binaryTarget(macho), 'darwin-arm64');
    assert.equal(binaryTarget(Buffer.from('#!/bin/sh\n')), undefined);
  });

  it('finds the unpacked resources in release/, or says which to pass', async () => {
    const release = await mkdtemp(path.join(os.tmpdir(), 'taskdock-release-'));
    try {
      assert.throws(() => findUnpackedResources(release), /npm run dist:dir/);
      await mkdir(path.join(release, 'linux-unpacked', 'resources'), { recursive: true });
      assert.equal(
        findUnpackedResources(release, 'x64'),
        path.join(release, 'linux-unpacked', 'resources'),
      );
      await mkdir(path.join(release, 'linux-arm64-unpacked', 'resources'), { recursive: true });
      assert.equal(
        findUnpackedResources(release, 'arm64'),
        path.join(release, 'linux-arm64-unpacked', 'resources'),
      );
      assert.equal(
        findUnpackedResources(release, 'x64'),
        path.join(release, 'linux-unpacked', 'resources'),
      );
      assert.throws(() => findUnpackedResources(release, 'ia32'), /--resources/);
    } finally {
      await rm(release, { recursive: true, force: true });
    }
  });
});
