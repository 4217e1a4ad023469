import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { appendFile, chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort } from '@taskdock/shared/node/ports';
import { isAlive } from '@taskdock/shared/node/processes';
import { lockDataDir } from '../src/data-dir.ts';
import { redisCommand, redisPing } from '../src/supervisor/redis-client.ts';
import { StartupError } from '../src/supervisor/supervisor.ts';
import { killPids, removeDir, tempDir, waitFor } from './helpers/process.ts';
import { testTaskdock } from './helpers/stack.ts';

// Each failure ends startup quickly with a message that names the service and says what to do.

const dirs: string[] = [];
const pids = new Set<number>();
after(async () => {
  await killPids(pids);
  for (const dir of dirs) {
    await chmod(dir, 0o700).catch(() => {});
    await removeDir(dir);
  }
});

async function dataDir(): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  return dir;
}

async function expectStartupError(
  taskdock: ReturnType<typeof testTaskdock>,
  service: string,
  pattern: RegExp,
  withinMs = 30_000,
): Promise<StartupError> {
  const began = Date.now();
  let error: unknown;
  try {
    await taskdock.start();
  } catch (err) {
    error = err;
  }
  const pidsSeen = taskdock.supervisor?.services().map((s) => s.pid) ?? [];
  await taskdock.stop();
  assert.ok(error instanceof StartupError, `a StartupError, got ${error}`);
  assert.equal(error.service, service);
  assert.match(error.message, pattern);
  assert.ok(Date.now() - began < withinMs, `failed within ${withinMs} ms, not a hang`);
  for (const pid of pidsSeen) if (pid) assert.equal(isAlive(pid), false);
  assert.equal(existsSync(taskdock.paths.runtime), false, 'no runtime.json');
  assert.equal(existsSync(taskdock.paths.lock), false, 'lock released');
  return error;
}

describe('startup failures', () => {
  test('redis-server missing with TASKDOCK_STORE=redis: says where it looked and how to get one', async () => {
    const dir = await dataDir();
    const empty = await dataDir();
    const taskdock = testTaskdock(dir, {
      env: { TASKDOCK_STORE: 'redis' },
      redisLookup: {
        layout: { kind: 'source', repoRoot: empty },
        pathEnv: empty,
        override: undefined,
      },
    });
    const error = await expectStartupError(taskdock, 'redis', /redis-server was not found/, 5000);
    assert.match(error.message, /Install Redis .* TASKDOCK_REDIS_SERVER .* prepare:resources/s);
  });

  test('data dir not writable: names the directory and TASKDOCK_DATA_DIR', async () => {
    const parent = await dataDir();
    await writeFile(path.join(parent, 'a-file'), '');
    // Below a regular file nothing can be created, whoever runs the test (root included).
    const taskdock = testTaskdock(path.join(parent, 'a-file', 'data'));
    await expectStartupError(
      taskdock,
      'supervisor',
      /The data directory .*a-file\/data is not writable \(ENOTDIR\).*TASKDOCK_DATA_DIR/,
      5000,
    );
    if (os.userInfo().uid !== 0) {
      const readOnly = await dataDir();
      await chmod(readOnly, 0o500);
      await expectStartupError(
        testTaskdock(readOnly),
        'supervisor',
        /not writable \(EACCES\)/,
        5000,
      );
    }
  });

  test('a corrupt AOF: Redis refuses it and the message says how to repair', async () => {
    const dir = await dataDir();
    const redisDir = path.join(dir, 'redis');
    await mkdir(redisDir, { recursive: true });
    // Make a real AOF with a real redis-server, then damage it.
    const port = await freePort();
    const binary = process.env.TASKDOCK_REDIS_SERVER || 'redis-server';
    const server = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--appendonly', 'yes'],
      { stdio: 'ignore' },
    );
    pids.add(server.pid as number);
    const target = { host: '127.0.0.1', port };
    await waitFor('redis to answer', () => redisPing(target).then(() => true));
    await redisCommand(target, ['SET', 'k', 'v']);
    await redisCommand(target, ['SHUTDOWN', 'SAVE']).catch(() => {});
    await once(server, 'exit');
    const aofDir = path.join(redisDir, 'appendonlydir');
    const incr = (await readdir(aofDir)).find((f) => f.endsWith('.incr.aof'));
    assert.ok(incr, 'redis wrote an incremental AOF');
    await appendFile(path.join(aofDir, incr), 'this is not RESP\r\n*1\r\n');

    const error = await expectStartupError(
      testTaskdock(dir),
      'redis',
      /Redis refused to load its append-only file in .*appendonlydir .*Bad file format.*redis-check-aof --fix/,
      15_000,
    );
    assert.ok(
      error.lastLines.some((l) => /Bad file format/.test(l)),
      'its last words are kept',
    );
  });

  test('a worker that cannot serve anything: the worker fails with its own reason', async () => {
    const taskdock = testTaskdock(await dataDir(), {
      env: { TASKDOCK_WORKFLOWS: 'no-such-workflow' },
    });
    await expectStartupError(
      taskdock,
      'worker',
      /worker failed to start: exited with code 1 before it was ready .*matches none of the workflows/,
    );
  });

  test('a worker that never reports ready: fails after its gate timeout, not a hang', async () => {
    const taskdock = testTaskdock(await dataDir(), { readyTimeoutMs: { worker: 300 } });
    await expectStartupError(
      taskdock,
      'worker',
      /worker failed to start: did not become healthy within 0.3 s \(last check: waiting for "worker ready"\)/,
    );
  });

  test('TASKDOCK_PORT already in use: the backend says so', async () => {
    const blocker = net.createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const taskdock = testTaskdock(await dataDir(), { env: { TASKDOCK_PORT: String(port) } });
      await expectStartupError(
        taskdock,
        'backend',
        new RegExp(`port ${port} \\(TASKDOCK_PORT\\) is already in use by another program`),
      );
    } finally {
      blocker.close();
    }
  });

  test('port 6379 taken by something else does not matter at all', async () => {
    const blocker = net.createServer((socket) => socket.end('-ERR not redis\r\n'));
    const taken = await new Promise<boolean>((resolve) => {
      blocker.once('error', () => resolve(false));
      blocker.listen(6379, '127.0.0.1', () => resolve(true));
    });
    const dir = await dataDir();
    const taskdock = testTaskdock(dir);
    try {
      const runtime = await taskdock.start();
      assert.notEqual(new URL(runtime.redis?.url ?? '').port, '6379');
      assert.ok(runtime.pids.backend);
    } finally {
      await taskdock.stop();
      if (taken) blocker.close();
    }
  });

  test('a second supervisor on the same data dir is refused; a dead one is taken over', async () => {
    const dir = await dataDir();
    const lock = path.join(dir, 'supervisor.lock');
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
    });
    pids.add(other.pid as number);
    await writeFile(lock, JSON.stringify({ pid: other.pid }));
    await assert.rejects(
      lockDataDir(lock),
      new RegExp(`Taskdock is already running with the data directory .* \\(pid ${other.pid}\\)`),
    );
    other.kill('SIGKILL');
    await once(other, 'exit');
    const release = await lockDataDir(lock);
    assert.ok(existsSync(lock));
    await release();
    assert.equal(existsSync(lock), false);
  });
});
