import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sha256File } from '../lib/fetch-verified.ts';
import {
  hostTarget,
  isSupportedServer,
  isTarget,
  loadManifest,
  manifestPath,
  REDIS_DIR,
  type RedisLock,
  ROOT,
  TARGETS,
  validateManifest,
} from '../lib/redis-manifest.ts';

describe('resources-source/redis manifests', () => {
  it('has a valid manifest for every platform-arch we package', () => {
    assert.deepEqual([...TARGETS].sort(), [
      'darwin-arm64',
      'darwin-x64',
      'linux-arm64',
      'linux-x64',
      'win32-x64',
    ]);
    for (const target of TARGETS) {
      const raw: unknown = JSON.parse(readFileSync(manifestPath(target), 'utf8'));
      assert.deepEqual(validateManifest(raw, target), [], `${target}/manifest.json`);
    }
  });

  it('ships only a BSD-licensed server that BullMQ supports', () => {
    for (const target of TARGETS) {
      const { server } = loadManifest(target);
      assert.equal(server.licence, 'BSD-3-Clause', target);
      assert.ok(isSupportedServer(server.name, server.version), `${target}: ${server.version}`);
    }
  });

  it('pins one source for all targets', () => {
    const [first, ...rest] = TARGETS.map((t) => loadManifest(t));
    for (const m of rest) {
      assert.deepEqual(m.server, first?.server, m.target);
      assert.deepEqual(m.source, first?.source, m.target);
    }
  });

  it('builds without TLS or systemd and allows only the C library', () => {
    for (const target of TARGETS) {
      const { build, binary } = loadManifest(target);
      assert.ok(build.make.includes('BUILD_TLS=no') && build.make.includes('USE_SYSTEMD=no'));
      const allowed = build.linkage.allowed.join(' ');
      assert.doesNotMatch(allowed, /ssl|crypto|systemd|jemalloc|lua/i, target);
      assert.equal(binary.file, target.startsWith('win32') ? 'redis-server.exe' : 'redis-server');
    }
  });

  it('accepts Redis 6.2–7.2.x and Valkey ≥ 7.2, nothing else', () => {
    const cases: [string, string, boolean][] = [
      ['redis', '5.0.14', false], // tporadowski's Windows port: below BullMQ's minimum
      ['redis', '6.0.20', false],
      ['redis', '6.2.0', true],
      ['redis', '7.0.15', true],
      ['redis', '7.2.9', true],
      ['redis', '7.4.0', false], // RSALv2/SSPLv1
      ['redis', '8.0.0', false], // AGPLv3/RSALv2/SSPLv1
      ['valkey', '7.2.5', true],
      ['valkey', '8.1.1', true],
      ['valkey', '7.0.0', false],
      ['memurai', '7.2.0', false],
      ['redis', '7.2', false],
    ];
    for (const [name, version, ok] of cases) {
      assert.equal(isSupportedServer(name, version), ok, `${name} ${version}`);
    }
  });

  it('lists every problem of a bad manifest at once', () => {
    const good = JSON.parse(readFileSync(manifestPath('linux-x64'), 'utf8'));
    const bad = structuredClone(good);
    bad.server.licence = 'RSALv2';
    bad.server.version = '7.4.0';
    bad.source.tarballs[0].sha256 = 'abc';
    bad.source.tarballs[0].urls = ['ftp://nowhere'];
    bad.build.make = ['BUILD_TLS=yes'];
    const problems = validateManifest(bad, 'linux-x64');
    const text = problems.join('\n');
    for (const expected of [
      'licence',
      '7.4.0',
      'sha256',
      'bad URL',
      'BUILD_TLS=no',
      'USE_SYSTEMD=no',
    ]) {
      assert.match(text, new RegExp(expected.replace('.', '\\.')), `missing: ${expected}`);
    }
    assert.deepEqual(
      validateManifest(good, 'darwin-arm64').filter((p) => p.startsWith('target')),
      ['target must be "darwin-arm64" (its folder), got "linux-x64"'],
    );
  });

  it('keeps built files out of git, manifests in', () => {
    const check = (rel: string) => {
      try {
        execFileSync('git', ['check-ignore', '-q', rel], { cwd: ROOT });
        return true;
      } catch {
        return false;
      }
    };
    for (const file of [
      'redis-server',
      'redis-server.exe',
      'redis-server.lock.json',
      'COPYING',
      'msys-2.0.dll',
    ]) {
      assert.ok(check(`resources-source/redis/win32-x64/${file}`), `${file} must be ignored`);
    }
    assert.ok(!check('resources-source/redis/linux-x64/manifest.json'));
  });

  // Only where `npm run prepare:resources` has run: CI does not build the server.
  const host = hostTarget();
  const lockFile = path.join(REDIS_DIR, host, 'redis-server.lock.json');
  it('matches the lock file of the binary built on this machine', {
    skip: isTarget(host) && existsSync(lockFile) ? false : 'no bundled redis-server built here',
  }, async () => {
    const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as RedisLock;
    const binary = path.join(REDIS_DIR, host, lock.binary);
    assert.equal(await sha256File(binary), lock.sha256);
    assert.ok(existsSync(path.join(REDIS_DIR, host, 'COPYING')), 'licence next to the binary');
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' });
    assert.match(version, /v=7\.0\.15 /);
    if (process.platform === 'linux') {
      const libs = execFileSync('ldd', [binary], { encoding: 'utf8' })
        .split('\n')
        .map((l) => path.basename(l.trim().split(/\s+/)[0] ?? ''))
        .filter(Boolean);
      const allowed = loadManifest(lock.target).build.linkage.allowed;
      assert.deepEqual(
        libs.filter((l) => !allowed.includes(l)),
        [],
        `ldd: ${libs.join(', ')}`,
      );
    }
  });
});
