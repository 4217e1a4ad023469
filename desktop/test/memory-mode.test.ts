import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type {
  Readiness,
  Schedule,
  ScheduleList,
  ServiceList,
  Task,
  TaskLogs,
} from '@taskdock/shared/contract';
import { freePort } from '@taskdock/shared/node/ports';
import { isAlive } from '@taskdock/shared/node/processes';
import type { RuntimeInfo } from '@taskdock/shared/node/runtime-file';
import { StartupError } from '../src/supervisor/supervisor.ts';
import type { Taskdock } from '../src/taskdock.ts';
import { trackResources, waitFor } from './helpers/process.ts';
import { api, readRuntime, testTaskdock } from './helpers/stack.ts';

const { pids, dataDir } = trackResources();

/** A machine without redis-server: an empty PATH and no bundled binary in the layout looked at. */
async function noRedisAnywhere(dir: string): Promise<Taskdock> {
  const empty = await dataDir();
  return testTaskdock(dir, {
    env: { PATH: empty, TASKDOCK_REDIS_SERVER: '' },
    redisLookup: { layout: { kind: 'source', repoRoot: empty }, override: undefined },
  });
}

const node = (script: string) => ({
  workflow: 'shell',
  params: { command: process.execPath, args: ['-e', script] },
});

async function waitForTask(
  runtime: RuntimeInfo,
  id: string,
  done: (task: Task) => boolean,
  what: string,
): Promise<Task> {
  return waitFor(what, async () => {
    const { body } = await api<Task>(runtime, `/api/tasks/${id}`);
    return done(body) ? body : undefined;
  });
}

describe('memory mode: no redis-server anywhere', () => {
  let taskdock: Taskdock;
  let runtime: RuntimeInfo;
  let chosenAfterMs = Number.NaN;
  let readyAfterMs = Number.NaN;

  before(async () => {
    const dir = await dataDir();
    taskdock = await noRedisAnywhere(dir);
    const began = Date.now();
    taskdock.onEvent((event) => {
      if (event.type === 'starting' && event.service === 'backend') {
        chosenAfterMs = Date.now() - began;
      }
    });
    runtime = await taskdock.start();
    readyAfterMs = Date.now() - began;
    pids.add(runtime.pids.backend);
  });
  after(async () => {
    await taskdock.stop();
  });

  test('starts only the backend, in memory mode, chosen within a second', async () => {
    assert.ok(chosenAfterMs < 1000, `backend starting ${chosenAfterMs} ms after start()`);
    // Under tsx on a shared 2-core machine the backend itself takes longer than a bundle.
    assert.ok(readyAfterMs < 20_000, `ready in ${readyAfterMs} ms`);
    assert.deepEqual(runtime.store, {
      mode: 'memory',
      reason: 'no redis-server was found (bundled or on PATH)',
    });
    assert.equal(runtime.redis, null);
    assert.deepEqual(runtime.pids, { redis: null, worker: null, backend: runtime.pids.backend });
    assert.deepEqual((await readRuntime(taskdock.paths.dataDir)).store, runtime.store);
    assert.equal(existsSync(path.join(taskdock.paths.dataDir, 'redis')), false, 'no redis dir');
    const log = taskdock.logs?.query({ service: 'supervisor', q: 'storage_mode=memory' }) ?? [];
    assert.match(log[0]?.text ?? '', /storage_mode=memory reason="no redis-server was found/);
  });

  test('the services list says redis and worker are not used, and why', async () => {
    const { body } = await api<ServiceList>(runtime, '/api/services');
    assert.deepEqual(
      body.services.map((s) => [s.name, s.status]),
      [
        ['redis', 'unused'],
        ['worker', 'unused'],
        ['backend', 'running'],
      ],
    );
    for (const service of body.services.slice(0, 2)) {
      assert.match(
        service.message ?? '',
        /^not used in memory mode: no redis-server was found \(bundled or on PATH\)$/,
      );
    }
  });

  test('readiness and /metrics say memory', async () => {
    const ready = await api<Readiness>(runtime, '/api/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.store?.mode, 'memory');
    assert.match(ready.body.store?.reason ?? '', /no redis-server was found/);
    assert.equal(ready.body.redis, undefined, 'no Redis to report on');
    const metrics = await fetch(`${runtime.apiUrl}/metrics`, {
      headers: { authorization: `Bearer ${runtime.token}` },
    }).then((r) => r.text());
    assert.match(metrics, /^taskdock_store\{mode="memory"\} 1$/m);
    assert.match(metrics, /^taskdock_store\{mode="redis"\} 0$/m);
    assert.doesNotMatch(metrics, /taskdock_redis_up/);
  });

  test('a shell task reports progress, logs and completes', async () => {
    const created = await api<Task>(runtime, '/api/tasks', {
      method: 'POST',
      body: node(
        "console.log('::progress 40 half way'); setTimeout(() => console.log('all done'), 1500)",
      ),
    });
    assert.equal(created.status, 201);
    const running = await waitForTask(
      runtime,
      created.body.id,
      (t) => t.status === 'running' && t.progress.percent === 40,
      'progress 40 while running',
    );
    assert.equal(running.progress.step, 'half way');
    const done = await waitForTask(
      runtime,
      created.body.id,
      (t) => t.status === 'completed',
      'the task to complete',
    );
    assert.equal(done.progress.percent, 100);
    const logs = await api<TaskLogs>(runtime, `/api/tasks/${created.body.id}/logs`);
    assert.ok(logs.body.lines.some((l) => l.text === 'all done'));
  });

  test('cancel kills the running shell process', async () => {
    const created = await api<Task>(runtime, '/api/tasks', {
      method: 'POST',
      body: node("console.log('pid ' + process.pid); setTimeout(() => {}, 60_000)"),
    });
    const pid = await waitFor('the task to print its pid', async () => {
      const { body } = await api<TaskLogs>(runtime, `/api/tasks/${created.body.id}/logs`);
      const line = body.lines.find((l) => l.text.startsWith('pid '));
      return line ? Number(line.text.slice(4)) : undefined;
    });
    pids.add(pid);
    assert.equal(isAlive(pid), true);
    const cancelled = await api<Task>(runtime, `/api/tasks/${created.body.id}/cancel`, {
      method: 'POST',
    });
    assert.equal(cancelled.status, 200);
    await waitForTask(runtime, created.body.id, (t) => t.status === 'cancelled', 'cancelled');
    await waitFor('the shell process to die', () => !isAlive(pid), 5000);
  });

  test('a failed task can be retried and then completes', async () => {
    const marker = path.join(await dataDir(), 'second-attempt');
    const script =
      `const fs = require('node:fs'); const f = ${JSON.stringify(marker)};` +
      "if (fs.existsSync(f)) console.log('ok'); else { fs.writeFileSync(f, ''); process.exit(3); }";
    const created = await api<Task>(runtime, '/api/tasks', {
      method: 'POST',
      body: { ...node(script), maxAttempts: 1 },
    });
    const failed = await waitForTask(
      runtime,
      created.body.id,
      (t) => t.status === 'failed',
      'fail',
    );
    assert.match(failed.error?.message ?? '', /3/);
    const retried = await api<Task>(runtime, `/api/tasks/${created.body.id}/retry`, {
      method: 'POST',
    });
    assert.equal(retried.status, 200);
    await waitForTask(runtime, created.body.id, (t) => t.status === 'completed', 'the retry');
  });

  test('a cron schedule makes tasks that run', async () => {
    const put = await api<Schedule>(runtime, '/api/schedules/every-second', {
      method: 'PUT',
      body: { workflow: 'sleep', pattern: '* * * * * *', params: { ms: 10 } },
    });
    assert.equal(put.status, 200);
    const schedule = await waitFor(
      'a scheduled run to complete',
      async () => {
        const { body } = await api<ScheduleList>(runtime, '/api/schedules');
        const found = body.items.find((s) => s.id === 'every-second');
        return found?.lastRun?.status === 'completed' ? found : undefined;
      },
      10_000,
    );
    assert.equal(schedule.workflow, 'sleep');
    const removed = await api(runtime, '/api/schedules/every-second', { method: 'DELETE' });
    assert.equal(removed.status, 204);
  });
});

test('TASKDOCK_STORE=memory forces memory mode with redis-server on PATH', async () => {
  const taskdock = testTaskdock(await dataDir(), { env: { TASKDOCK_STORE: 'memory' } });
  try {
    const runtime = await taskdock.start();
    pids.add(runtime.pids.backend);
    assert.deepEqual(runtime.store, { mode: 'memory', reason: 'TASKDOCK_STORE=memory' });
    assert.equal(runtime.pids.redis, null);
    const { body } = await api<ServiceList>(runtime, '/api/services');
    assert.deepEqual(
      body.services.map((s) => [s.name, s.status, s.message]),
      [
        ['redis', 'unused', 'not used in memory mode: TASKDOCK_STORE=memory'],
        ['worker', 'unused', 'not used in memory mode: TASKDOCK_STORE=memory'],
        ['backend', 'running', undefined],
      ],
    );
  } finally {
    await taskdock.stop();
  }
});

test('with redis-server on PATH, auto is Redis mode', async () => {
  const taskdock = testTaskdock(await dataDir());
  try {
    const runtime = await taskdock.start();
    pids.add(runtime.pids.redis).add(runtime.pids.worker).add(runtime.pids.backend);
    assert.equal(runtime.store.mode, 'redis');
    assert.ok(runtime.redis?.url.startsWith('redis://'));
    const ready = await api<Readiness>(runtime, '/api/health/ready');
    assert.equal(ready.body.store?.mode, 'redis');
    assert.equal(ready.body.redis?.ok, true);
  } finally {
    await taskdock.stop();
  }
});

test('TASKDOCK_REDIS_URL at a closed port is an error, never memory mode', async () => {
  const port = await freePort();
  const taskdock = testTaskdock(await dataDir(), {
    env: { TASKDOCK_REDIS_URL: `redis://127.0.0.1:${port}` },
    readyTimeoutMs: { worker: 4000, backend: 4000 },
  });
  let error: unknown;
  try {
    await taskdock.start();
  } catch (err) {
    error = err;
  } finally {
    for (const s of taskdock.supervisor?.services() ?? []) pids.add(s.pid);
    await taskdock.stop();
  }
  assert.ok(error instanceof StartupError, `a StartupError, got ${error}`);
  assert.equal(error.service, 'redis');
  assert.match(
    error.message,
    new RegExp(
      `the Redis at TASKDOCK_REDIS_URL \\(127\\.0\\.0\\.1:${port}\\) does not answer \\(ECONNREFUSED\\).*never falls back to memory mode`,
    ),
  );
  assert.equal(existsSync(taskdock.paths.runtime), false);
  assert.equal(
    taskdock.logs?.query({ q: 'storage_mode=memory' }).length ?? 0,
    0,
    'never switched to memory',
  );
});

test('a redis-server that cannot start: auto falls back to memory and says why', async () => {
  const bin = await dataDir();
  const fake = path.join(bin, 'redis-server');
  // What a quarantined or broken binary looks like to the supervisor: it dies at once.
  await writeFile(fake, '#!/bin/sh\necho "cannot open shared object file" >&2\nexit 127\n', {
    mode: 0o755,
  });
  const empty = await dataDir();
  const taskdock = testTaskdock(await dataDir(), {
    env: { PATH: bin, TASKDOCK_REDIS_SERVER: '' },
    redisLookup: { layout: { kind: 'source', repoRoot: empty }, override: undefined },
  });
  try {
    const runtime = await taskdock.start();
    pids.add(runtime.pids.backend);
    assert.equal(runtime.store.mode, 'memory');
    assert.match(
      runtime.store.reason,
      /^redis-server \(.*\/redis-server\) could not start: exited with code 127 .*cannot open shared object file/,
    );
    const { body } = await api<ServiceList>(runtime, '/api/services');
    assert.match(
      body.services[0]?.message ?? '',
      /not used in memory mode: redis-server .* could not start/,
    );
  } finally {
    await taskdock.stop();
  }
});
