import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HeartbeatAnswer, Lease, Task } from '@taskdock/shared/contract';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { createTask, declare, lease, leaseCall } from './remote-helpers.ts';

/** Heartbeats every 500 ms; a cancel that waited for the worker would take that long or more. */
const LEASE_MS = 1500;
/** What a user clicking Cancel may wait for the answer (a wait for the worker takes ≥ a lease). */
const PROMPT_MS = 500;

describe('cancel of a leased task reaches the remote worker at once', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: false, remote: { leaseMs: LEASE_MS } });
    await declare(stack, 'cut');
  });
  after(() => stack.close());

  /** A leased task, cancelled: the cancel's answer, how long it took, and the lease. */
  async function leaseThenCancel(n: number) {
    const task = await createTask(stack, { workflow: 'cut', params: { n } });
    const [got] = await lease(stack, { workerId: `w-${n}`, workflows: ['cut'] });
    assert.equal(got?.task.id, task.id);
    const before = await leaseCall(stack, got.leaseId, 'heartbeat');
    assert.equal(before.json<HeartbeatAnswer>().cancelRequested, false);
    const started = Date.now();
    const res = await stack.request({ method: 'POST', url: `/api/tasks/${task.id}/cancel` });
    const tookMs = Date.now() - started;
    assert.equal(res.statusCode, 200, res.body);
    return { task, got: got as Lease, answer: res.json<Task>(), tookMs };
  }

  test('the cancel answers at once, and the very next heartbeat says cancelRequested', async () => {
    const { got, answer, tookMs } = await leaseThenCancel(1);
    assert.ok(tookMs < PROMPT_MS, `cancel took ${tookMs} ms`);
    assert.equal(answer.status, 'running', 'the worker has not stopped yet');
    const beat = await leaseCall(stack, got.leaseId, 'heartbeat');
    assert.equal(beat.statusCode, 200, beat.body);
    assert.equal(beat.json<HeartbeatAnswer>().cancelRequested, true);
  });

  test('fail after the cancel ends the task cancelled, not failed or re-queued', async () => {
    const { task, got } = await leaseThenCancel(2);
    const res = await leaseCall(stack, got.leaseId, 'fail', {
      error: { message: 'stopped on request' },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<Task>().status, 'cancelled');
    assert.equal((await stack.waitForTask(task.id)).status, 'cancelled');
  });

  test('release after the cancel ends the task cancelled, not back in the queue', async () => {
    const { task, got } = await leaseThenCancel(3);
    const res = await leaseCall(stack, got.leaseId, 'release');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<Task>().status, 'cancelled');
    assert.deepEqual(await lease(stack, { workerId: 'w-other', workflows: ['cut'] }), []);
    assert.equal((await stack.waitForTask(task.id)).status, 'cancelled');
  });

  test('complete after the cancel is 409 TASK_CANCELLED and keeps no result', async () => {
    const { task, got } = await leaseThenCancel(4);
    const res = await leaseCall(stack, got.leaseId, 'complete', { result: { frames: 9 } });
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json<{ error: { code: string } }>().error.code, 'TASK_CANCELLED');
    const ended = await stack.waitForTask(task.id);
    assert.equal(ended.status, 'cancelled');
    assert.equal(ended.result, undefined);
  });

  test('a worker that never answers: its lease expiry ends the task cancelled', async () => {
    const { task, tookMs } = await leaseThenCancel(5);
    assert.ok(tookMs < PROMPT_MS, `cancel took ${tookMs} ms`);
    const started = Date.now();
    const ended = await stack.waitForTask(task.id, undefined, LEASE_MS * 3);
    assert.equal(ended.status, 'cancelled');
    // Expiry is seen within half a lease of the lock running out (lease-queues.ts).
    assert.ok(Date.now() - started < LEASE_MS * 2, `ended ${Date.now() - started} ms after`);
    assert.deepEqual(await lease(stack, { workerId: 'w-late', workflows: ['cut'] }), []);
  });
});
