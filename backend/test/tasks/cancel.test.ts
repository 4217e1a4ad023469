import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CreateTask } from '../../src/contract/index.ts';
import { ConflictError } from '../../src/engine/errors.ts';
import { isRunning as isAlive, waitUntil } from '../helpers/processes.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';

describe('cancel', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: { concurrency: 2 } });
  });
  after(() => stack.close());

  const create = async (input: CreateTask) => (await stack.engine.create(input)).task;
  const cancel = (id: string) => stack.engine.cancel(id);

  test('a scheduled task is taken off the delayed set and never runs', async () => {
    const task = await create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 600 });
    assert.equal(task.status, 'scheduled');
    assert.ok(task.scheduledFor);
    assert.equal((await cancel(task.id)).status, 'cancelled');
    await new Promise((r) => setTimeout(r, 900));
    const later = await stack.engine.get(task.id);
    assert.equal(later?.status, 'cancelled');
    assert.equal(later?.startedAt, undefined, 'it never started');
    assert.equal(
      await stack.client.zscore('taskdock:sleep:delayed', task.id.split(':')[1] as string),
      null,
    );
  });

  test("cancelling a queued task keeps its queue's event history", async () => {
    // Events the relay may not have read yet: a cancel must not trim them away.
    const events = 'taskdock:sleep:events';
    const filler = stack.client.pipeline();
    for (let i = 0; i < 12_000; i++) filler.xadd(events, '*', 'event', 'taskdock:filler');
    await filler.exec();
    const before = await stack.client.xlen(events);
    const task = await create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 60_000 });
    assert.equal((await cancel(task.id)).status, 'cancelled');
    assert.ok((await stack.client.xlen(events)) > before, 'no event was trimmed');
  });

  test('a queued task (no worker serves its workflow) is cancelled at once', async () => {
    const idle = await startStack({ redis: stack.redis, worker: false });
    try {
      // A second stack on the same Redis without a worker: use a workflow the worker is busy with.
      const blockers = await Promise.all(
        [1, 2].map(() => create({ workflow: 'sleep', params: { ms: 1500 } })),
      );
      await Promise.all(
        blockers.map((b) => stack.waitForTask(b.id, (t) => t.status === 'running')),
      );
      const queued = await create({ workflow: 'sleep', params: { ms: 0 } });
      assert.equal((await stack.engine.get(queued.id))?.status, 'queued');
      assert.equal((await idle.engine.cancel(queued.id)).status, 'cancelled');
      assert.equal(
        await stack.client.lpos('taskdock:sleep:wait', queued.id.split(':')[1] as string),
        null,
      );
      await Promise.all(blockers.map((b) => stack.waitForTask(b.id)));
      assert.equal((await stack.engine.get(queued.id))?.status, 'cancelled');
    } finally {
      await idle.close();
    }
  });

  test('a running shell task is cancelled and its grandchild process dies too', async () => {
    const pidFile = path.join(os.tmpdir(), `taskdock-grandchild-${process.pid}-${Date.now()}`);
    // sh starts a background sleep (the grandchild), records its pid, then waits.
    const task = await create({
      workflow: 'shell',
      params: {
        command: 'sh',
        args: ['-c', `sleep 60 & echo $! > ${pidFile}; echo started; wait`],
      },
    });
    await stack.waitForTask(task.id, (t) => t.status === 'running');
    let grandchild = 0;
    for (let i = 0; i < 100 && !grandchild; i++) {
      grandchild = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (!grandchild) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(grandchild > 0 && isAlive(grandchild), 'grandchild is running before cancel');

    const cancelled = await cancel(task.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.error, undefined);
    await waitUntil(() => !isAlive(grandchild), 2000);
    assert.equal(isAlive(grandchild), false, 'grandchild was killed with the tree');
    await rm(pidFile, { force: true });

    await assert.rejects(
      cancel(task.id),
      (err) => err instanceof ConflictError && err.code === 'ALREADY_FINISHED',
    );
    const logs = await stack.engine.logs(task.id);
    assert.ok(logs.some((l) => l.stream === 'system' && l.text === 'Cancelled'));
  });

  test('a cancelled task is not retried even with attempts left, and retry brings it back', async () => {
    const task = await create({ workflow: 'sleep', params: { ms: 5000 }, maxAttempts: 3 });
    await stack.waitForTask(task.id, (t) => t.status === 'running');
    assert.equal((await cancel(task.id)).status, 'cancelled');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await stack.engine.get(task.id))?.status, 'cancelled');
    await stack.engine.retry(task.id);
    await stack.waitForTask(task.id, (t) => t.status === 'running');
    await assert.rejects(
      stack.engine.retry(task.id),
      (err) => err instanceof ConflictError && err.code === 'NOT_RETRYABLE',
    );
    await cancel(task.id);
  });
});
