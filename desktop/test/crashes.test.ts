import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { ServiceList, ServiceLogList, ServiceName } from '@taskdock/shared/contract';
import { isAlive } from '@taskdock/shared/node/processes';
import type { SupervisorEvent } from '../src/supervisor/supervisor.ts';
import { killPids, removeDir, tempDir, waitFor } from './helpers/process.ts';
import { api, readRuntime, testTaskdock } from './helpers/stack.ts';

// kill -9 of each service while tasks run: it is restarted, no submitted task is lost, and
// GET /api/services shows the restarts.

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

interface TaskView {
  id: string;
  status: string;
  attempts: number;
}

test('kill -9 of redis, the worker and the backend while tasks run', {
  timeout: 180_000,
}, async () => {
  const dataDir = await tempDir();
  const taskdock = testTaskdock(dataDir);
  const events: SupervisorEvent[] = [];
  taskdock.onEvent((e) => events.push(e));
  cleanup.push(async () => {
    const pids = (['redis', 'worker', 'backend'] as const).map((s) => taskdock.supervisor?.pid(s));
    await taskdock.stop();
    await killPids(pids);
    await removeDir(dataDir);
  });
  const runtime = await taskdock.start();

  const created = await api<{ items: { task: TaskView }[] }>(runtime, '/api/tasks/bulk', {
    method: 'POST',
    body: {
      tasks: Array.from({ length: 12 }, (_, i) => ({
        workflow: 'sleep',
        params: { ms: 1200, steps: 4 },
        // A stalled task (its worker was killed) is retried; give it room.
        maxAttempts: 5,
        idempotencyKey: `crash-test-${i}`,
      })),
    },
  });
  assert.equal(created.status, 201);
  const ids = created.body.items.map((i) => i.task.id);
  const task = async (id: string) =>
    (await api<TaskView>(runtime, `/api/tasks/${encodeURIComponent(id)}`)).body;
  await waitFor('a task to run', async () => {
    for (const id of ids) if ((await task(id)).status === 'running') return true;
    return false;
  });

  const sv = taskdock.supervisor;
  assert.ok(sv);
  async function killAndAwaitRestart(service: ServiceName) {
    const pid = sv?.pid(service);
    assert.ok(pid, `${service} has a pid`);
    const readyBefore = events.filter((e) => e.service === service && e.type === 'ready').length;
    process.kill(pid, 'SIGKILL');
    await waitFor(
      `${service} to be restarted`,
      () => events.filter((e) => e.service === service && e.type === 'ready').length > readyBefore,
      30_000,
    );
    const now = sv?.pid(service);
    assert.ok(now && now !== pid && isAlive(now), `${service} runs again with a new pid`);
    assert.equal(isAlive(pid), false);
    // The API answers again (the backend's Redis client has reconnected).
    await waitFor(
      'the API',
      async () => (await api(runtime, '/api/health/ready')).status === 200,
      30_000,
    );
  }

  await killAndAwaitRestart('redis');
  await killAndAwaitRestart('worker');
  await killAndAwaitRestart('backend');

  const restarting = events.filter((e) => e.type === 'restarting').map((e) => e.service);
  assert.deepEqual(restarting, ['redis', 'worker', 'backend']);

  // Every submitted task finishes: none was lost with redis, the worker or the backend.
  const finals = await waitFor(
    'every task to finish',
    async () => {
      const all = await Promise.all(ids.map(task));
      return all.every((t) => ['completed', 'failed', 'cancelled'].includes(t.status))
        ? all
        : undefined;
    },
    90_000,
    250,
  );
  assert.deepEqual(
    finals.map((t) => t.status),
    ids.map(() => 'completed'),
    JSON.stringify(finals),
  );

  const services = await api<ServiceList>(runtime, '/api/services');
  for (const service of services.body.services) {
    assert.equal(service.status, 'running', service.name);
    assert.equal(service.restarts, 1, `${service.name} restarts`);
    assert.equal(service.lastExit?.signal, 'SIGKILL');
    assert.equal(service.lastExit?.reason, 'was killed by SIGKILL');
    assert.equal(service.pid, sv.pid(service.name));
  }
  // runtime.json follows the new pids.
  const onDisk = await waitFor('runtime.json to have the new pids', async () => {
    const info = await readRuntime(dataDir);
    return info.pids.backend === sv.pid('backend') ? info : undefined;
  });
  assert.deepEqual(onDisk.pids, {
    redis: sv.pid('redis'),
    worker: sv.pid('worker'),
    backend: sv.pid('backend'),
  });
  const logs = await api<ServiceLogList>(runtime, '/api/logs?service=redis&q=SIGKILL');
  assert.ok(logs.body.lines.some((l) => l.stream === 'system' && /killed by SIGKILL/.test(l.text)));
});
