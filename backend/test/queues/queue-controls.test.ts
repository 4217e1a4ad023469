import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import type {
  BulkActionResult,
  QueueList,
  QueueState,
  RemoveFinishedResult,
  Stats,
  Task,
  WorkflowList,
} from '@taskdock/shared/contract';
import { type ProbeServer, startProbeServer } from '../helpers/probe-server.ts';
import { waitUntil } from '../helpers/processes.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

describe('queue controls', () => {
  let stack: TestStack;
  let probe: ProbeServer;
  const workers: WorkerProcess[] = [];

  const spawnWorker = async (env: Record<string, string> = {}) => {
    const worker = startWorkerProcess({
      TASKDOCK_REDIS_URL: stack.redis.url,
      TASKDOCK_DATA_DIR: os.tmpdir(),
      TASKDOCK_LOCK_DURATION_MS: '2000',
      TASKDOCK_SHUTDOWN_GRACE_MS: '2000',
      ...env,
    });
    workers.push(worker);
    await worker.ready;
    return worker;
  };
  const post = async <T>(url: string, payload?: object, status = 200): Promise<T> => {
    const res = await stack.request({ method: 'POST', url, ...(payload ? { payload } : {}) });
    assert.equal(res.statusCode, status, res.body);
    return res.json<T>();
  };
  const create = (payload: object) => post<Task>('/api/tasks', payload, 201);
  const status = async (id: string) => (await stack.engine.get(id))?.status;

  before(async () => {
    stack = await startStack({ worker: false });
    probe = await startProbeServer();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await probe.close();
    await stack.close();
  });

  test('a paused queue keeps its tasks waiting, says so everywhere, and runs them once resumed', async (t) => {
    await spawnWorker({ TASKDOCK_WORKFLOWS: 'sleep' });
    const paused = await post<QueueState>('/api/queues/sleep/pause');
    t.after(() => stack.engine.updateQueue('sleep', { paused: false }));
    assert.deepEqual(paused, { workflow: 'sleep', paused: true, globalConcurrency: null });

    const queues = (await stack.request({ url: '/api/queues' })).json<QueueList>();
    assert.equal(queues.items.find((q) => q.workflow === 'sleep')?.paused, true);
    assert.equal(queues.items.find((q) => q.workflow === 'shell')?.paused, false);
    const workflows = (await stack.request({ url: '/api/workflows' })).json<WorkflowList>();
    assert.equal(workflows.items.find((w) => w.name === 'sleep')?.paused, true);
    const stats = (await stack.request({ url: '/api/stats' })).json<Stats>();
    assert.equal(stats.workflows.find((w) => w.name === 'sleep')?.paused, true);

    const tasks = await Promise.all(
      [1, 2, 3].map(() => create({ workflow: 'sleep', params: { ms: 0 } })),
    );
    await new Promise((r) => setTimeout(r, 1000));
    for (const task of tasks)
      assert.equal(await status(task.id), 'queued', 'it waits while paused');

    assert.equal((await post<QueueState>('/api/queues/sleep/resume')).paused, false);
    for (const task of tasks) assert.equal((await stack.waitForTask(task.id)).status, 'completed');
    const after = (await stack.request({ url: '/api/workflows' })).json<WorkflowList>();
    assert.equal(after.items.find((w) => w.name === 'sleep')?.paused, false);
  });

  test('a global concurrency set by the API holds across two worker processes', async () => {
    const limited = await post<QueueState>('/api/queues/http/concurrency', { limit: 1 });
    assert.equal(limited.globalConcurrency, 1);
    await Promise.all([
      spawnWorker({ TASKDOCK_WORKFLOWS: 'http', TASKDOCK_CONCURRENCY: '4' }),
      spawnWorker({ TASKDOCK_WORKFLOWS: 'http', TASKDOCK_CONCURRENCY: '4' }),
    ]);
    const run = `gc-${Date.now()}`;
    const tasks = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        create({
          workflow: 'http',
          params: { url: `${probe.url}/hold?key=${run}&id=${i}&ms=150` },
        }),
      ),
    );
    for (const task of tasks) {
      assert.equal((await stack.waitForTask(task.id, undefined, 20_000)).status, 'completed');
    }
    assert.equal(probe.maxInFlight.get(run), 1, 'never more than one at once on eight slots');

    const cleared = await post<QueueState>('/api/queues/http/concurrency', { limit: null });
    assert.equal(cleared.globalConcurrency, null);
    const bad = await stack.request({
      method: 'POST',
      url: '/api/queues/http/concurrency',
      payload: { limit: 0 },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.details[0].path, '/body/limit');
    const unknown = await stack.request({ method: 'POST', url: '/api/queues/nope/pause' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'NOT_FOUND');
  });

  test('retry all failed of a workflow re-queues exactly its failed tasks', async (t) => {
    if (!workers.some((w) => w.output().includes('"sleep"'))) await spawnWorker();
    await spawnWorker({ TASKDOCK_WORKFLOWS: 'shell' });
    const failing = await Promise.all(
      [1, 2, 3].map(() => create({ workflow: 'sleep', params: { ms: 10, failAt: 1 } })),
    );
    const shellFailed = await create({
      workflow: 'shell',
      params: { command: 'sh', args: ['-c', 'exit 3'] },
    });
    const completed = await create({ workflow: 'sleep', params: { ms: 0 } });
    const cancelled = await create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 60_000 });
    await post(`/api/tasks/${encodeURIComponent(cancelled.id)}/cancel`);
    for (const task of [...failing, shellFailed, completed]) await stack.waitForTask(task.id);
    // What a retry would change (the relay may still be adding its attempt record meanwhile).
    const retryVisible = async (id: string) => {
      const task = await stack.engine.get(id);
      return task && { status: task.status, attempts: task.attempts, finishedAt: task.finishedAt };
    };
    const shellBefore = await retryVisible(shellFailed.id);

    // Paused, so the retried tasks stay visibly queued.
    await post('/api/queues/sleep/pause');
    t.after(() => stack.engine.updateQueue('sleep', { paused: false }));
    const filter = { workflow: 'sleep', status: 'failed' };
    const count = await post<BulkActionResult>('/api/tasks/bulk/retry', { filter, dryRun: true });
    assert.equal(count.eligible, 3);
    assert.equal(count.matched, 3);
    assert.equal(count.done, 0);
    for (const task of failing)
      assert.equal(await status(task.id), 'failed', 'a dry run changes nothing');

    const done = await post<BulkActionResult>('/api/tasks/bulk/retry', {
      filter,
      asOf: count.asOf,
    });
    assert.deepEqual(
      { done: done.done, skipped: done.skipped, failed: done.failed, next: done.nextCursor },
      { done: 3, skipped: 0, failed: [], next: null },
    );
    for (const task of failing) assert.equal(await status(task.id), 'queued');
    assert.equal(await status(completed.id), 'completed');
    assert.equal(await status(cancelled.id), 'cancelled');
    assert.deepEqual(await retryVisible(shellFailed.id), shellBefore, 'other workflows untouched');
    await post('/api/queues/sleep/resume');
    for (const task of failing) assert.equal((await stack.waitForTask(task.id)).status, 'failed');
  });

  test('remove finished older than a time deletes exactly those, after counting them', async () => {
    if (!workers.some((w) => w.output().includes('"sleep"'))) await spawnWorker();
    const old = await Promise.all(
      [1, 2, 3].map(() => create({ workflow: 'sleep', params: { ms: 0 } })),
    );
    const oldFailed = await create({ workflow: 'sleep', params: { ms: 1, failAt: 1 } });
    for (const task of [...old, oldFailed]) await stack.waitForTask(task.id);
    await new Promise((r) => setTimeout(r, 20));
    const cutoff = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const recent = await create({ workflow: 'sleep', params: { ms: 0 } });
    await stack.waitForTask(recent.id);
    const waiting = await create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 60_000 });

    // Earlier tests left finished sleep tasks too: the cutoff covers them as well.
    const earlier = await stack.client.zcount(
      'taskdock:sleep:completed',
      '-inf',
      Date.parse(cutoff),
    );
    const earlierFailed = await stack.client.zcount(
      'taskdock:sleep:failed',
      '-inf',
      Date.parse(cutoff),
    );
    const url = '/api/queues/sleep/remove-finished';
    const dry = await post<RemoveFinishedResult>(url, { finishedBefore: cutoff, dryRun: true });
    assert.equal(dry.matched, earlier + earlierFailed);
    assert.ok(dry.matched >= 4);
    assert.equal(dry.removed, 0);
    for (const task of old)
      assert.equal(await status(task.id), 'completed', 'a dry run removes none');

    const removed = await post<RemoveFinishedResult>(url, { finishedBefore: cutoff });
    assert.deepEqual(removed, { matched: dry.matched, removed: dry.matched, remaining: 0 });
    for (const task of [...old, oldFailed]) assert.equal(await stack.engine.get(task.id), null);
    assert.equal(await status(recent.id), 'completed');
    assert.equal(await status(waiting.id), 'scheduled');
    // The relay drops them from the list too.
    const listed = async () =>
      (await stack.engine.list({ workflow: 'sleep', limit: 500 })).items.map((t) => t.id);
    assert.ok(
      await waitUntil(
        async () => !(await listed()).some((id) => old.some((t) => t.id === id)),
        5000,
      ),
    );
    assert.ok((await listed()).includes(recent.id));
  });
});
