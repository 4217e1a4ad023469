// TASKDOCK_ROLE and TASKDOCK_WORKER_PROCESSES on one machine (docs/scale-out.md "Roles"); the
// three-host run is desktop/test/scale/hosts.test.ts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { ServiceList, Task } from '@taskdock/shared/contract';
import { ConfigError } from '@taskdock/shared/node/settings';
import { loadDesktopConfig } from '../src/config.ts';
import { killPids, removeDir, tempDir, waitFor } from './helpers/process.ts';
import { api, startHeadless, testTaskdock } from './helpers/stack.ts';

test('worker and api roles need the shared Redis; every bad role variable is named at once', () => {
  assert.throws(
    () =>
      loadDesktopConfig({
        TASKDOCK_DATA_DIR: '/tmp/x',
        TASKDOCK_ROLE: 'worker',
        TASKDOCK_WORKER_PROCESSES: '65',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 2, err.message);
      assert.match(err.message, /TASKDOCK_ROLE=worker needs the Redis every host shares/);
      assert.match(err.message, /TASKDOCK_WORKER_PROCESSES must be an integer from 1 to 64/);
      return true;
    },
  );
  assert.throws(
    () =>
      loadDesktopConfig({
        TASKDOCK_DATA_DIR: '/tmp/x',
        TASKDOCK_ROLE: 'api',
        TASKDOCK_STORE: 'memory',
        TASKDOCK_WORKER_PROCESSES: '2',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /TASKDOCK_ROLE=api needs the Redis/);
      assert.match(err.message, /an api host runs no workers/);
      return true;
    },
  );
  assert.throws(
    () => loadDesktopConfig({ TASKDOCK_DATA_DIR: '/tmp/x', TASKDOCK_ROLE: 'leader' }),
    /TASKDOCK_ROLE must be one of all, worker, api, got "leader"/,
  );
});

test('npm run serve with TASKDOCK_ROLE=worker and no Redis stops at once with the fix', async () => {
  const dir = await tempDir();
  const serve = startHeadless(dir, { TASKDOCK_ROLE: 'worker' });
  try {
    const { code } = await serve.exited;
    assert.equal(code, 78);
    assert.match(serve.output(), /TASKDOCK_ROLE=worker needs .*set TASKDOCK_REDIS_URL/);
  } finally {
    await killPids([serve.pid]);
    await removeDir(dir);
  }
});

test('TASKDOCK_WORKER_PROCESSES=2: two workers, each with its own log, restarted alone', async () => {
  const dir = await tempDir();
  const taskdock = testTaskdock(dir, { env: { TASKDOCK_WORKER_PROCESSES: '2' } });
  try {
    const runtime = await taskdock.start();
    const listed = async () => (await api<ServiceList>(runtime, '/api/services')).body.services;
    assert.deepEqual(
      (await listed()).map((s) => [s.name, s.instance, s.status]),
      [
        ['redis', undefined, 'running'],
        ['worker', 1, 'running'],
        ['worker', 2, 'running'],
        ['backend', undefined, 'running'],
      ],
    );
    const pids = taskdock.supervisor?.pids('worker') ?? [];
    assert.equal(new Set(pids).size, 2);
    for (const name of ['worker-1', 'worker-2']) {
      assert.ok(existsSync(path.join(dir, 'logs', `${name}.log`)), `${name}.log`);
    }

    await killPids([pids[1]]);
    const after = await waitFor('worker 2 back', async () => {
      const workers = (await listed()).filter((s) => s.name === 'worker');
      return workers[1]?.status === 'running' && workers[1].pid !== pids[1] ? workers : undefined;
    });
    assert.equal(after[0]?.pid, pids[0], 'worker 1 ran on untouched');
    assert.equal(after[0]?.restarts, 0);
    assert.equal(after[1]?.restarts, 1);

    const created = await api<Task>(runtime, '/api/tasks', {
      method: 'POST',
      body: { workflow: 'sleep', params: { ms: 20 } },
    });
    await waitFor('the task to complete', async () => {
      const { body } = await api<Task>(
        runtime,
        `/api/tasks/${encodeURIComponent(created.body.id)}`,
      );
      return body.status === 'completed';
    });
  } finally {
    await taskdock.stop();
    await removeDir(dir);
  }
});
