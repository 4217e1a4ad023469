import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { Stats, Task, TaskList } from '@taskdock/shared/contract';
import { Queue } from 'bullmq';
import { Queue as QueueV5 } from 'bullmq5';
import { startStack, type TestStack } from '../helpers/stack.ts';

// Taskdock's queues stay plain BullMQ queues: a BullMQ 6 producer (our version), a BullMQ 5
// producer (other apps on the same Redis that have not upgraded) and Bull Board all share them.

describe('BullMQ 5 and 6 producers and Bull Board on Taskdock queues', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.close();
  });

  const completedInSleep = async () => {
    const stats = (await stack.request({ method: 'GET', url: '/api/stats' })).json<Stats>();
    return stats.workflows.find((w) => w.name === 'sleep')?.totals.completed ?? 0;
  };

  test("jobs of both majors' producers are run, listed and counted; Bull Board sees them", async () => {
    const completedBefore = await completedInSleep();

    const created = await stack.request({
      method: 'POST',
      url: '/api/tasks',
      payload: { workflow: 'sleep', params: { ms: 1 } },
    });
    assert.equal(created.statusCode, 201, created.body);
    const fromApi = created.json<Task>().id;

    const v6 = new Queue('sleep', { connection: stack.redis.client(), prefix: 'taskdock' });
    const v6Job = await v6.add('from-bullmq-6', { ms: 2 }, { attempts: 2 });
    // A BullMQ 5 producer brings its own ioredis 5 client from connection options.
    const v5 = new QueueV5('sleep', {
      connection: { host: '127.0.0.1', port: stack.redis.port },
      prefix: 'taskdock',
    });
    const v5Job = await v5.add('from-bullmq-5', { ms: 3 }, { priority: 5 });
    await v5.close();

    const ids = [fromApi, `sleep:${v6Job.id}`, `sleep:${v5Job.id}`];
    for (const id of ids) {
      const done = await stack.waitForTask(id);
      assert.equal(done.status, 'completed', `${id}: ${JSON.stringify(done.error)}`);
    }
    const v5Task = await stack.waitForTask(ids[2] as string);
    assert.deepEqual(v5Task.params, { ms: 3 });
    assert.equal(v5Task.priority, 5);

    const listed = (
      await stack.request({ method: 'GET', url: '/api/tasks?workflow=sleep&limit=500' })
    ).json<TaskList>();
    for (const id of ids)
      assert.ok(
        listed.items.some((t) => t.id === id),
        `${id} is listed`,
      );
    const completed = (
      await stack.request({ method: 'GET', url: '/api/tasks?status=completed&limit=500' })
    ).json<TaskList>();
    for (const id of ids)
      assert.ok(
        completed.items.some((t) => t.id === id),
        `${id} completed`,
      );

    // Totals follow BullMQ's own events, whoever produced the job.
    const deadline = Date.now() + 5000;
    while ((await completedInSleep()) < completedBefore + 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await completedInSleep(), completedBefore + 3);

    const board = new BullMQAdapter(v6);
    const counts = await board.getJobCounts();
    assert.ok((counts.completed ?? 0) >= 3, JSON.stringify(counts));
    const boardIds = (await board.getJobs(['completed'])).map((job) => `sleep:${job.id}`);
    for (const id of ids) assert.ok(boardIds.includes(id), `Bull Board lists ${id}`);
    assert.match((await board.getRedisInfo()) ?? '', /redis_version:/);
    await v6.close();
  });
});
