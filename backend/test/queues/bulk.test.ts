import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BULK_LIMITS,
  type BulkActionResult,
  type BulkFilter,
  type CreateTask,
  type TaskSummary,
} from '@taskdock/shared/contract';
import { startStack, type TestStack } from '../helpers/stack.ts';

// No worker: every task stays queued (or scheduled) until a bulk action changes it.
describe('bulk actions over a search', () => {
  let stack: TestStack;

  const bulk = async (action: string, payload: object) => {
    const res = await stack.request({ method: 'POST', url: `/api/tasks/bulk/${action}`, payload });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<BulkActionResult>();
  };
  const createMany = async (tasks: CreateTask[]) => {
    const items = await stack.engine.createMany(tasks);
    return items.map((i) => i.task);
  };
  /** Every task the list gives for the filter, page by page as the UI reads it. */
  const listAll = async (filter: BulkFilter): Promise<TaskSummary[]> => {
    const all: TaskSummary[] = [];
    let cursor: string | undefined;
    do {
      const page = await stack.engine.list({ ...filter, limit: 50, ...(cursor ? { cursor } : {}) });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  };
  /** Calls again with each answer's cursor until the action is done; the summed counts. */
  const runToEnd = async (action: string, filter: BulkFilter, asOf: string) => {
    let cursor: string | null = null;
    let done = 0;
    let calls = 0;
    do {
      const answer: BulkActionResult = await bulk(action, {
        filter,
        asOf,
        ...(cursor ? { cursor } : {}),
      });
      assert.ok(answer.done <= BULK_LIMITS.maxPerCall);
      done += answer.done;
      cursor = answer.nextCursor;
      calls++;
    } while (cursor);
    return { done, calls };
  };

  before(async () => {
    stack = await startStack({ worker: false });
  });
  after(() => stack.close());

  test('the dry-run count equals what the list returns for the same filter', async () => {
    const run = `count-${Date.now()}`;
    const tasks = await createMany([
      ...Array.from({ length: 30 }, () => ({
        workflow: 'sleep',
        params: { ms: 0 },
        owner: 'ann',
        source: `${run}-a`,
      })),
      ...Array.from({ length: 20 }, () => ({
        workflow: 'sleep',
        params: { ms: 0 },
        owner: 'bob',
        source: `${run}-b`,
        delayMs: 60_000,
      })),
      ...Array.from({ length: 12 }, () => ({
        workflow: 'shell',
        params: { command: 'true' },
        owner: 'ann',
        source: `${run}-c`,
      })),
    ]);
    for (const task of tasks.slice(0, 5)) await stack.engine.cancel(task.id);
    const filters: BulkFilter[] = [
      {},
      { workflow: 'sleep' },
      { owner: 'ann' },
      { q: `${run}-b` },
      { q: run },
      { status: 'scheduled' },
      { status: 'cancelled', owner: 'ann' },
      { status: 'queued', workflow: 'shell', q: run },
    ];
    for (const filter of filters) {
      const listed = await listAll(filter);
      const count = await bulk('cancel', { filter, dryRun: true });
      const label = JSON.stringify(filter);
      assert.equal(count.matched, listed.length, `matched for ${label}`);
      assert.equal(
        count.eligible,
        listed.filter((t) => t.status !== 'cancelled').length,
        `cancellable for ${label}`,
      );
      assert.equal(count.nextCursor, null, 'the whole count');
      const retry = await bulk('retry', { filter, dryRun: true });
      assert.equal(retry.eligible, listed.filter((t) => t.status === 'cancelled').length);
    }
    assert.equal((await bulk('delete', { filter: { q: run }, dryRun: true })).matched, 62);
  });

  test('cancel every task a search matches, across three pages of the list', async () => {
    const run = `sel-${Date.now()}`;
    const selected = await createMany(
      Array.from({ length: 130 }, () => ({ workflow: 'sleep', params: { ms: 0 }, source: run })),
    );
    const others = await createMany(
      Array.from({ length: 5 }, () => ({ workflow: 'sleep', params: { ms: 0 }, source: 'others' })),
    );
    const filter = { q: run };
    assert.equal((await stack.engine.list({ ...filter, limit: 50 })).items.length, 50);
    const count = await bulk('cancel', { filter, dryRun: true });
    assert.equal(count.eligible, 130);

    // One created after the count is not part of what the user confirmed.
    const [late] = await createMany([{ workflow: 'sleep', params: { ms: 0 }, source: run }]);
    const { done } = await runToEnd('cancel', filter, count.asOf);
    assert.equal(done, 130);
    const after = await listAll(filter);
    const byId = new Map(after.map((t) => [t.id, t.status]));
    for (const task of selected) assert.equal(byId.get(task.id), 'cancelled', task.id);
    assert.equal(byId.get(late?.id as string), 'queued', 'the task made after the count is left');
    for (const task of others) assert.equal((await stack.engine.get(task.id))?.status, 'queued');

    const again = await bulk('cancel', { filter, asOf: count.asOf });
    assert.equal(again.done, 0, 'nothing left to cancel');
  });

  test('one call acts on at most maxPerCall tasks and returns a cursor for the rest', async () => {
    const run = `big-${Date.now()}`;
    const total = BULK_LIMITS.maxPerCall + 20;
    const tasks = await createMany(
      Array.from({ length: total }, () => ({ workflow: 'sleep', params: { ms: 0 }, source: run })),
    );
    const filter = { q: run };
    const { asOf } = await bulk('delete', { filter, dryRun: true });
    const first = await bulk('delete', { filter, asOf });
    assert.ok(first.done <= BULK_LIMITS.maxPerCall);
    assert.ok(first.nextCursor, 'more to do');
    const rest = await runToEnd('delete', filter, asOf);
    assert.equal(first.done + rest.done, total);
    for (const task of [tasks[0], tasks.at(-1)]) {
      assert.equal(await stack.engine.get(task?.id as string), null);
    }
    assert.equal((await listAll(filter)).length, 0);
  });

  test('bad bulk requests are 400s in the error shape', async () => {
    const unknown = await stack.request({
      method: 'POST',
      url: '/api/tasks/bulk/explode',
      payload: { filter: {} },
    });
    assert.equal(unknown.statusCode, 400);
    const extra = await stack.request({
      method: 'POST',
      url: '/api/tasks/bulk/cancel',
      payload: { filter: { limit: 5 } },
    });
    assert.equal(extra.statusCode, 400);
    assert.equal(extra.json().error.code, 'VALIDATION_FAILED');
    const cursor = await stack.request({
      method: 'POST',
      url: '/api/tasks/bulk/cancel',
      payload: { filter: {}, cursor: 'bm9wZQ' },
    });
    assert.equal(cursor.statusCode, 400);
    assert.equal(cursor.json().error.code, 'INVALID_CURSOR');
  });
});
