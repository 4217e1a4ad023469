import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  currentRunner,
  detectLayout,
  findRepoRoot,
  nodeServiceCommand,
  RedisBinaryMissingError,
  resolveRedisServer,
  SERVICE_NODE_FLAGS,
} from '../src/paths.ts';
import { removeDir, tempDir } from './helpers/process.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await removeDir(dir);
});

async function fakeBinary(file: string) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '#!/bin/sh\n');
  await chmod(file, 0o755);
  return file;
}

describe('resolveRedisServer', () => {
  test('packaged resources, then resources-source, then TASKDOCK_REDIS_SERVER, then PATH', async () => {
    const root = await tempDir();
    dirs.push(root);
    const onPath = await fakeBinary(path.join(root, 'bin', 'redis-server'));
    const override = await fakeBinary(path.join(root, 'custom', 'my-redis'));
    const base = { platform: 'linux' as const, arch: 'x64', pathEnv: path.join(root, 'bin') };
    const source = { kind: 'source' as const, repoRoot: path.join(root, 'repo') };

    assert.deepEqual(resolveRedisServer({ ...base, layout: source, override: undefined }), {
      path: onPath,
      source: 'PATH',
    });
    assert.deepEqual(resolveRedisServer({ ...base, layout: source, override }), {
      path: override,
      source: 'TASKDOCK_REDIS_SERVER',
    });
    const bundled = await fakeBinary(
      path.join(root, 'repo', 'resources-source', 'redis', 'linux-x64', 'redis-server'),
    );
    assert.equal(resolveRedisServer({ ...base, layout: source, override }).path, bundled);
    const packaged = await fakeBinary(path.join(root, 'resources', 'redis', 'redis-server'));
    assert.deepEqual(
      resolveRedisServer({
        ...base,
        layout: { kind: 'packaged', resourcesPath: path.join(root, 'resources') },
        override,
      }),
      { path: packaged, source: 'packaged resources' },
    );
  });

  test('missing everywhere: an error that lists every place it looked', async () => {
    const root = await tempDir();
    dirs.push(root);
    const lookup = {
      layout: { kind: 'source' as const, repoRoot: root },
      platform: 'linux' as const,
      arch: 'x64',
      pathEnv: path.join(root, 'empty-bin'),
    };
    assert.throws(
      () => resolveRedisServer({ ...lookup, override: undefined }),
      (err: unknown) => {
        assert.ok(err instanceof RedisBinaryMissingError);
        assert.match(err.message, /redis-server was not found/);
        assert.match(err.message, /resources-source.redis.linux-x64.redis-server/);
        assert.match(err.message, /PATH \(.*empty-bin\)/);
        assert.match(err.message, /TASKDOCK_REDIS_SERVER/);
        return true;
      },
    );
    // A TASKDOCK_REDIS_SERVER that is set but wrong is reported, not silently replaced by PATH.
    assert.throws(
      () => resolveRedisServer({ ...lookup, override: path.join(root, 'nope') }),
      /TASKDOCK_REDIS_SERVER=.*nope: not an executable file/,
    );
  });
});

describe('detectLayout', () => {
  const repoRoot = findRepoRoot(import.meta.url);

  test('a .ts entry is the sources, other JS in the repository is tsc -b output', () => {
    assert.deepEqual(detectLayout(import.meta.url), { kind: 'source', repoRoot });
    assert.deepEqual(detectLayout(path.join(repoRoot, 'desktop', 'dist', 'src', 'headless.js')), {
      kind: 'built',
      repoRoot,
    });
  });

  test('headless.mjs in a bundles/ folder beside worker.mjs is a package: its resources', async () => {
    const root = await tempDir();
    dirs.push(root);
    const resources = path.join(root, 'Taskdock', 'resources');
    await mkdir(path.join(resources, 'bundles'), { recursive: true });
    for (const file of ['headless.mjs', 'worker.mjs', 'server.mjs']) {
      await writeFile(path.join(resources, 'bundles', file), '');
    }
    const layout = detectLayout(
      pathToFileURL(path.join(resources, 'bundles', 'headless.mjs')).href,
    );
    assert.deepEqual(layout, { kind: 'packaged', resourcesPath: resources });
    // What the packaged supervisor then runs: the bundles and the resources' redis-server.
    const redis = await fakeBinary(path.join(resources, 'redis', 'redis-server'));
    const lookup = { layout, platform: 'linux' as const, arch: 'x64', override: undefined };
    assert.equal(resolveRedisServer({ ...lookup, pathEnv: '' }).path, redis);
    assert.deepEqual(nodeServiceCommand(layout, currentRunner('/usr/bin/node', {}), 'backend'), {
      command: '/usr/bin/node',
      args: [...SERVICE_NODE_FLAGS.backend, path.join(resources, 'bundles', 'server.mjs')],
      env: {},
    });
  });

  test('run by Electron as Node, the packaged headless starts its services as Node too', () => {
    const runner = currentRunner('/opt/Taskdock/taskdock', { node: '22.0.0', electron: '41.0.0' });
    assert.deepEqual(runner, { execPath: '/opt/Taskdock/taskdock', electron: true });
    const worker = nodeServiceCommand({ kind: 'packaged', resourcesPath: '/r' }, runner, 'worker');
    assert.equal(worker.command, '/opt/Taskdock/taskdock');
    assert.deepEqual(worker.env, { ELECTRON_RUN_AS_NODE: '1' });
    assert.equal(currentRunner(process.execPath, process.versions).electron, false);
  });
});

describe('nodeServiceCommand', () => {
  const runner = { execPath: '/usr/bin/node', electron: false };
  test('source runs the TypeScript entry with tsx, built the JS, packaged the bundle as Node', () => {
    const source = nodeServiceCommand({ kind: 'source', repoRoot: '/r' }, runner, 'worker');
    const [importFlag, loader, entry] = source.args.slice(SERVICE_NODE_FLAGS.worker.length);
    assert.equal(importFlag, '--import');
    assert.match(loader ?? '', /^file:.*tsx/);
    assert.equal(entry, path.join('/r', 'backend', 'src', 'worker', 'main.ts'));
    assert.deepEqual(
      nodeServiceCommand({ kind: 'built', repoRoot: '/r' }, runner, 'backend').args,
      [...SERVICE_NODE_FLAGS.backend, path.join('/r', 'backend', 'dist', 'src', 'server.js')],
    );
    const packaged = nodeServiceCommand(
      { kind: 'packaged', resourcesPath: '/app/resources' },
      { execPath: '/app/Taskdock', electron: true },
      'worker',
    );
    assert.equal(packaged.command, '/app/Taskdock');
    assert.deepEqual(packaged.env, { ELECTRON_RUN_AS_NODE: '1' });
    assert.deepEqual(packaged.args, [
      ...SERVICE_NODE_FLAGS.worker,
      path.join('/app/resources', 'bundles', 'worker.mjs'),
    ]);
  });

  test('this Node takes the services’ flags (one it rejected would stop every service)', () => {
    for (const flags of Object.values(SERVICE_NODE_FLAGS)) {
      const run = spawnSync(process.execPath, [...flags, '-e', ''], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stderr, '');
    }
  });
});
