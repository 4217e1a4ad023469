// Redis only: what the Redis engine does beyond the engine contract (backend/test/engine/,
// which runs on every engine).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { startStack, type TestStack } from '../helpers/stack.ts';

describe('task engine (Redis only)', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: { concurrency: 4 } });
  });
  after(() => stack.close());

  test('a job added by a plain BullMQ producer is run and listed like any task (Redis only)', async () => {
    const queue = new Queue('sleep', { connection: stack.redis.client(), prefix: 'taskdock' });
    const job = await queue.add('from-bullmq', { ms: 5 });
    await queue.close();
    const id = `sleep:${job.id}`;
    const done = await stack.waitForTask(id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.params, { ms: 5 });
    const listed = await stack.engine.list({ workflow: 'sleep', limit: 500 });
    assert.ok(listed.items.some((t) => t.id === id));
  });
});
