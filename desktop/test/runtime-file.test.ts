import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  isRuntimeCurrent,
  type RuntimeInfo,
  readRuntimeFile,
  runtimeSupervisor,
} from '@taskdock/shared/node/runtime-file';
import { killPids, trackResources, waitFor } from './helpers/process.ts';
import { startHeadless, testTaskdock } from './helpers/stack.ts';

// runtime.json describes a live stack only: a new start removes a dead run's file before it
// does anything else, and a reader can tell a current file from a stale one.

const { pids, dataDir } = trackResources();

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await once(child, 'exit');
  return child.pid as number;
}

/** What a killed run leaves: its port, token and password are dead. */
function staleRuntime(supervisorPid: number): RuntimeInfo {
  return {
    apiUrl: 'http://127.0.0.1:1',
    token: 'stale-token-0123456789',
    store: { mode: 'redis', reason: 'redis-server from PATH' },
    redis: { url: 'redis://:stale-password@127.0.0.1:2' },
    pids: { redis: supervisorPid, worker: supervisorPid, backend: supervisorPid },
    uiUrl: 'http://127.0.0.1:1/?stale',
    supervisor: { pid: supervisorPid, startTime: '1' },
  };
}

describe('runtime.json', () => {
  test('a stale file is gone the moment start() is called; the new one is current', async () => {
    const dir = await dataDir();
    const file = path.join(dir, 'runtime.json');
    await writeFile(file, JSON.stringify(staleRuntime(await deadPid())), { mode: 0o600 });
    const read = () => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    };

    const taskdock = testTaskdock(dir);
    const starting = taskdock.start();
    // Synchronously after the call: before the lock, before redis-server is even spawned.
    const seen = [read()];
    const poll = setInterval(() => seen.push(read()), 5);
    try {
      const runtime = await starting;
      clearInterval(poll);
      for (const pid of Object.values(runtime.pids)) pids.add(pid);
      assert.equal(seen[0], '', 'removed before start() returned its promise');
      assert.ok(seen.length > 10, 'polled all through the start');
      assert.ok(
        seen.every((text) => !text.includes('stale-password')),
        'no read after start() saw the stale file',
      );
      const written = await readRuntimeFile(file);
      assert.ok(written);
      assert.deepEqual(written.supervisor, runtimeSupervisor(process.pid));
      assert.equal(isRuntimeCurrent(written), true);
    } finally {
      clearInterval(poll);
      await taskdock.stop();
    }
  });

  test('the file of another supervisor that still runs is left alone (and that start fails)', async () => {
    const dir = await dataDir();
    // A live node process holds the data-dir lock, as another Taskdock would.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
    pids.add(other.pid as number);
    await once(other, 'spawn');
    await mkdir(dir, { recursive: true });
    const live = {
      ...staleRuntime(other.pid as number),
      supervisor: runtimeSupervisor(other.pid as number),
    };
    await writeFile(path.join(dir, 'runtime.json'), JSON.stringify(live), { mode: 0o600 });
    await writeFile(path.join(dir, 'supervisor.lock'), JSON.stringify({ pid: other.pid }));

    await assert.rejects(testTaskdock(dir).start(), /already running/);
    assert.deepEqual(await readRuntimeFile(path.join(dir, 'runtime.json')), live);
    other.kill('SIGKILL');
    await once(other, 'exit');
  });

  test('a reader tells current from stale: dead pid, reused pid, a file without supervisor', async () => {
    assert.equal(isRuntimeCurrent({ supervisor: runtimeSupervisor(process.pid) }), true);
    assert.equal(
      isRuntimeCurrent({ supervisor: { pid: await deadPid(), startTime: null } }),
      false,
    );
    if (process.platform === 'linux') {
      // This pid runs, but it is not the process that wrote the file.
      assert.equal(isRuntimeCurrent({ supervisor: { pid: process.pid, startTime: '1' } }), false);
    }
    assert.equal(isRuntimeCurrent({} as RuntimeInfo), false);
    assert.equal(isRuntimeCurrent(JSON.parse('null')), false);
  });

  test('after kill -9 of the supervisor, its runtime.json reads as stale', {
    timeout: 120_000,
  }, async () => {
    const dir = await dataDir();
    const headless = startHeadless(dir);
    pids.add(headless.pid);
    const runtime = await waitFor(
      'runtime.json',
      async () => {
        if (headless.child.exitCode !== null) throw new Error(headless.output());
        return readRuntimeFile(path.join(dir, 'runtime.json'));
      },
      60_000,
      100,
    );
    for (const pid of Object.values(runtime.pids)) pids.add(pid);
    assert.equal(runtime.supervisor.pid, headless.pid);
    assert.equal(isRuntimeCurrent(runtime), true);

    headless.child.kill('SIGKILL');
    await headless.exited;
    const left = JSON.parse(await readFile(path.join(dir, 'runtime.json'), 'utf8')) as RuntimeInfo;
    assert.equal(left.apiUrl, runtime.apiUrl, 'the killed run could not remove its file');
    assert.equal(isRuntimeCurrent(left), false, 'but a reader sees that it is stale');
    await killPids(Object.values(runtime.pids));
  });
});
