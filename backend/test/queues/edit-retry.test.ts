import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { Task, TaskLogs } from '@taskdock/shared/contract';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

describe('edit and retry', () => {
  let stack: TestStack;
  let worker: WorkerProcess;
  const path = (id: string, action: string) => `/api/tasks/${encodeURIComponent(id)}/${action}`;
  const editRetry = (id: string, params: object) =>
    stack.request({ method: 'POST', url: path(id, 'edit-retry'), payload: { params } });

  before(async () => {
    stack = await startStack({ worker: false });
    worker = startWorkerProcess({
      TASKDOCK_REDIS_URL: stack.redis.url,
      TASKDOCK_DATA_DIR: os.tmpdir(),
      TASKDOCK_WORKFLOWS: 'shell,sleep',
    });
    await worker.ready;
  });
  after(async () => {
    await worker.kill();
    await stack.close();
  });

  test('a failed task runs again with the edited params, and its log says which changed', async () => {
    const { task } = await stack.engine.create({
      workflow: 'shell',
      params: { command: 'sh', args: ['-c', 'echo first; exit 3'] },
    });
    const failed = await stack.waitForTask(task.id);
    assert.equal(failed.status, 'failed');

    const res = await editRetry(task.id, { command: 'sh', args: ['-c', 'echo edited run'] });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json<Task>().params, { command: 'sh', args: ['-c', 'echo edited run'] });
    const done = await stack.waitForTask(task.id);
    assert.equal(done.status, 'completed');
    assert.equal((done.result as { stdoutTail: string }).stdoutTail, 'edited run');
    assert.deepEqual(done.params, { command: 'sh', args: ['-c', 'echo edited run'] });

    const logs = (await stack.request({ url: path(task.id, 'logs') })).json<TaskLogs>();
    const texts = logs.lines.map((l) => l.text);
    assert.ok(texts.includes('first'), 'the first attempt’s lines stay');
    assert.ok(texts.includes('Params edited before retrying: args changed'), texts.join('\n'));
    assert.ok(texts.indexOf('edited run') > texts.indexOf('first'));

    // Each attempt says what it ran with: the first the old params, the retry the edited ones.
    const settled = await stack.waitForTask(
      task.id,
      (t) => (t.attemptHistory ?? []).filter((a) => a.outcome !== 'running').length === 2,
    );
    assert.deepEqual(
      settled.attemptHistory?.map((a) => [a.outcome, a.params]),
      [
        ['failed', failed.params],
        ['completed', done.params],
      ],
    );
  });

  test('invalid params are refused with the failing field, and the task is left as it was', async () => {
    const { task } = await stack.engine.create({ workflow: 'sleep', params: { ms: 1, failAt: 1 } });
    const failed = await stack.waitForTask(task.id);
    assert.equal(failed.status, 'failed');

    const res = await editRetry(task.id, { ms: 'soon' });
    assert.equal(res.statusCode, 400);
    const body = res.json();
    assert.equal(body.error.code, 'INVALID_PARAMS');
    assert.deepEqual(
      body.error.details.map((d: { path: string }) => d.path),
      ['/body/params/ms'],
    );
    const after = await stack.engine.get(task.id);
    assert.equal(after?.status, 'failed');
    assert.deepEqual(after?.params, failed.params);
  });

  test('only a failed or cancelled task can be edited and retried', async () => {
    const { task } = await stack.engine.create({ workflow: 'sleep', params: { ms: 0 } });
    assert.equal((await stack.waitForTask(task.id)).status, 'completed');
    const res = await editRetry(task.id, { ms: 5 });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().error.code, 'NOT_RETRYABLE');
    assert.deepEqual((await stack.engine.get(task.id))?.params, { ms: 0, steps: 1 });
    const missing = await editRetry('sleep:no-such-job', { ms: 5 });
    assert.equal(missing.statusCode, 404);
  });
});
