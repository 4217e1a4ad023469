import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CreateTask, Stats, TaskList } from '@taskdock/shared/contract';
import { Queue } from 'bullmq';
import { waitUntil } from '../helpers/processes.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';

describe('search: what the UI promises', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: { concurrency: 20 } });
  });
  after(() => stack.close());

  const list = async (query: string) => {
    const res = await stack.request({ method: 'GET', url: `/api/tasks?${query}` });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<TaskList>();
  };
  const createAll = async (inputs: CreateTask[]) =>
    (await stack.engine.createMany(inputs)).map((o) => o.task);
  /** The relay has seen this many tasks fail and complete (the status indexes are current). */
  const finished = async (failed: number, completed: number) => {
    assert.ok(
      await waitUntil(async () => {
        const { totals } = (
          await stack.request({ method: 'GET', url: '/api/stats' })
        ).json<Stats>();
        return totals.failed >= failed && totals.completed >= completed;
      }, 60_000),
      'the tasks finished',
    );
  };

  test('any prefix of a job id finds the task, with or without its workflow, in any case', async () => {
    const [task, other] = await createAll([
      { workflow: 'sleep', params: { ms: 0 } },
      { workflow: 'sleep', params: { ms: 0 } },
    ]);
    assert.ok(task && other);
    const jobId = task.id.slice('sleep:'.length);
    for (const q of [
      jobId.slice(0, 8),
      jobId.slice(0, 8).toUpperCase(),
      `sleep:${jobId.slice(0, 5)}`,
    ]) {
      const { items } = await list(`q=${encodeURIComponent(q)}`);
      assert.ok(
        items.some((t) => t.id === task?.id),
        `q=${q} finds it`,
      );
      assert.ok(
        items.every((t) => t.id.toLowerCase().includes(q.toLowerCase()) || t.workflow.includes(q)),
      );
    }
    const whole = await list(`q=${encodeURIComponent(task?.id as string)}`);
    assert.deepEqual(
      whole.items.map((t) => t.id),
      [task?.id],
    );
    assert.ok(!(await list(`q=${jobId.slice(0, 12)}`)).items.some((t) => t.id === other?.id));
  });

  test('a plain BullMQ producer’s job is found by its id too', async () => {
    const queue = new Queue('sleep', { connection: stack.redis.client(), prefix: 'taskdock' });
    await queue.add('sleep', { ms: 0 }, { jobId: 'nightly-import-42' });
    await queue.close();
    assert.ok(
      await waitUntil(
        async () =>
          (await list('q=nightly-imp')).items.some((t) => t.id === 'sleep:nightly-import-42'),
        10_000,
      ),
      'found once the relay saw it',
    );
  });

  test('owner and source substrings match in any script, CJK included', async () => {
    const [mine, theirs] = await createAll([
      { workflow: 'sleep', params: { ms: 0 }, owner: '研究チーム', source: '数据管道-夜间' },
      { workflow: 'sleep', params: { ms: 0 }, owner: 'ops' },
    ]);
    for (const q of ['研究', 'チーム', '管道', '夜间']) {
      const { items } = await list(`q=${encodeURIComponent(q)}`);
      assert.deepEqual(
        items.map((t) => t.id),
        [mine?.id],
        `q=${q}`,
      );
    }
    assert.ok(
      !(await list(`q=${encodeURIComponent('研究')}`)).items.some((t) => t.id === theirs?.id),
    );
  });

  test('q with a status returns full pages, never an empty page with a cursor', async () => {
    const failing = Array.from({ length: 120 }, () => ({
      workflow: 'sleep',
      params: { ms: 0, failAt: 1 },
      owner: 'night-batch',
    }));
    const passing = Array.from({ length: 900 }, () => ({
      workflow: 'sleep',
      params: { ms: 0 },
      owner: 'night-batch',
    }));
    // Failures first: the newest thousand tasks are all completed, the failed ones older.
    await createAll(failing);
    await createAll(passing);
    await finished(120, 900);

    for (const query of [
      'q=sleep&status=failed',
      'q=night&status=failed',
      'owner=night-batch&status=failed',
    ]) {
      const seen = new Set<string>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: TaskList = await list(`${query}&limit=50${cursor ? `&cursor=${cursor}` : ''}`);
        pages++;
        assert.ok(
          page.items.length > 0 || page.nextCursor === null,
          `${query}: no empty page with a cursor`,
        );
        if (page.nextCursor !== null) assert.equal(page.items.length, 50, `${query}: full pages`);
        for (const task of page.items) {
          assert.equal(task.status, 'failed');
          assert.ok(!seen.has(task.id), 'no repeats across pages');
          seen.add(task.id);
        }
        cursor = page.nextCursor;
      } while (cursor !== null && pages < 10);
      assert.ok(seen.size >= 120, `${query}: every failed task (${seen.size})`);
      assert.equal(pages, Math.ceil(seen.size / 50));
    }
  });
});
