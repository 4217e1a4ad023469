// Redis only: how cancel meets BullMQ's sets and streams and several backends on one Redis.
// What cancel does on every engine is in the engine contract (backend/test/engine/).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CreateTask } from '@taskdock/shared/contract';
import { startStack, type TestStack } from '../helpers/stack.ts';

describe('cancel (Redis only)', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: { concurrency: 2 } });
  });
  after(() => stack.close());

  const create = async (input: CreateTask) => (await stack.engine.create(input)).task;
  const cancel = (id: string) => stack.engine.cancel(id);

  test("a cancelled scheduled task leaves BullMQ's delayed set (Redis only)", async () => {
    const task = await create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 60_000 });
    assert.equal((await cancel(task.id)).status, 'cancelled');
    assert.equal(
      await stack.client.zscore('taskdock:sleep:delayed', task.id.split(':')[1] as string),
      null,
    );
  });

  test("cancelling a queued task keeps its queue's event history (Redis only)", async () => {
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

  test('a second backend on the same Redis cancels a queued task at once (Redis only)', async () => {
    const idle = await startStack({ redis: stack.redis, worker: false });
    try {
      // The worker's 2 slots are busy, so the third task waits in BullMQ's wait list.
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
});
