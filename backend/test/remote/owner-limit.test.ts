import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { createTask, declare, lease, leaseCall, waitUntil } from './remote-helpers.ts';

describe('per-owner limits (TASKDOCK_MAX_PER_OWNER) apply to leases', () => {
  let stack: TestStack;
  before(async () => {
    // One task per owner at a time, local worker and remote leases alike.
    stack = await startStack({
      worker: { maxPerOwner: 1 },
      remote: { leaseMs: 2000, maxPerOwner: 1 },
    });
    await declare(stack, 'paint');
  });
  after(() => stack.close());

  test('an owner at its limit gets no second lease; its task waits uncounted, then runs', async () => {
    const first = await createTask(stack, { workflow: 'paint', params: { n: 1 }, owner: 'ana' });
    const second = await createTask(stack, { workflow: 'paint', params: { n: 2 }, owner: 'ana' });
    const other = await createTask(stack, { workflow: 'paint', params: { n: 3 }, owner: 'bo' });
    const got = await lease(stack, { workerId: 'w-1', workflows: ['paint'], max: 10 });
    const leased = got.map((l) => l.task.id).sort();
    assert.equal(leased.length, 2, `leased ${leased.join(', ')}`);
    assert.ok(leased.includes(other.id), 'another owner is not held back');
    const ana = got.find((l) => l.task.id !== other.id);
    assert.ok(ana);
    const waiting = ana.task.id === first.id ? second : first;

    // Still at the limit: a later poll leaves it too, and it is no attempt.
    assert.deepEqual(await lease(stack, { workerId: 'w-2', workflows: ['paint'], max: 10 }), []);
    const held = await stack.waitForTask(waiting.id, () => true);
    assert.notEqual(held.status, 'running');
    assert.equal(held.attempts, 0);

    assert.equal((await leaseCall(stack, ana.leaseId, 'complete')).statusCode, 200);
    // The slot is free: the waiting task is leased within its short retry delay.
    const started = Date.now();
    const next = await waitUntil(async () => {
      const [l] = await lease(stack, { workerId: 'w-2', workflows: ['paint'], waitMs: 1000 });
      return l;
    }, 3000);
    assert.equal(next.task.id, waiting.id);
    assert.equal(next.task.attempts, 1);
    assert.ok(
      Date.now() - started < 1500,
      `leased ${Date.now() - started} ms after the slot freed`,
    );
    for (const l of [next, ...got.filter((l) => l !== ana)]) {
      assert.equal((await leaseCall(stack, l.leaseId, 'complete')).statusCode, 200);
    }
  });

  test('a task a local worker runs for the owner holds the slot a lease would need', async () => {
    const local = await createTask(stack, {
      workflow: 'sleep',
      params: { ms: 1500 },
      owner: 'cy',
    });
    await stack.waitForTask(local.id, (t) => t.status === 'running', 5000);
    const remote = await createTask(stack, { workflow: 'paint', params: { n: 4 }, owner: 'cy' });
    assert.deepEqual(await lease(stack, { workerId: 'w-3', workflows: ['paint'] }), []);
    assert.equal((await stack.waitForTask(local.id, undefined, 5000)).status, 'completed');
    const [got] = await lease(stack, { workerId: 'w-3', workflows: ['paint'], waitMs: 2000 });
    assert.equal(got?.task.id, remote.id);
    // And the other way round: the leased task holds cy's slot against the local worker.
    const blocked = await createTask(stack, { workflow: 'sleep', params: { ms: 0 }, owner: 'cy' });
    await new Promise((r) => setTimeout(r, 500));
    // Not run: a local worker may hold the job for a moment before it finds the slot taken
    // (BullMQ's `active`, read as running), but it hands it back unstarted.
    const meanwhile = await stack.engine.get(blocked.id);
    assert.ok(meanwhile);
    assert.notEqual(meanwhile.status, 'completed');
    assert.deepEqual(meanwhile.attemptHistory ?? [], []);
    assert.equal((await leaseCall(stack, got.leaseId, 'complete')).statusCode, 200);
    assert.equal((await stack.waitForTask(blocked.id, undefined, 5000)).status, 'completed');
  });
});
