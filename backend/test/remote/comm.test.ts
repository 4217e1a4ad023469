import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CommFetchAnswer, CommUpdateAnswer } from '@taskdock/shared/contract';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { createTask, declare, workerToken } from './remote-helpers.ts';

describe('compatibility routes: fetch/update', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: false, remote: { leaseMs: 1000 } });
    await declare(stack, 'transcode');
  });
  after(() => stack.close());

  test('fetch → PROCESSING → COMPLETED runs a task end to end; nothing left: { task: null }', async () => {
    const { token } = await workerToken(stack, 'legacy', ['transcode']);
    const task = await createTask(stack, { workflow: 'transcode', params: { n: 9 } });
    const fetched = await stack.request({
      method: 'GET',
      url: '/api/comm/task/fetch?workflowNames=transcode,other*',
      token,
    });
    assert.equal(fetched.statusCode, 200, fetched.body);
    const got = fetched.json<CommFetchAnswer>().task;
    assert.equal(got?.taskId, task.id);
    assert.equal(got?.status, 'FETCHED');
    assert.deepEqual(got?.params, { n: 9 });
    assert.equal(got?.createdAt, task.createdAt);
    // Leased for 300 s, not the 1 s of TASKDOCK_LEASE_MS: still held after the lease would end.
    await new Promise((r) => setTimeout(r, 1800));
    assert.equal((await stack.engine.get(task.id))?.status, 'running');
    const processing = await stack.request({
      method: 'POST',
      url: '/api/comm/task/update',
      payload: { taskId: task.id, status: 'PROCESSING', progress: 30 },
      token,
    });
    assert.equal(processing.statusCode, 200, processing.body);
    assert.equal(processing.json<CommUpdateAnswer>().task.progress.percent, 30);
    const completed = await stack.request({
      method: 'POST',
      url: '/api/comm/task/update',
      payload: { taskId: task.id, status: 'COMPLETED', outputData: { url: 'out.mp4' } },
      token,
    });
    assert.equal(completed.statusCode, 200, completed.body);
    const done = completed.json<CommUpdateAnswer>().task;
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.result, { url: 'out.mp4' });
    const twice = await stack.request({
      method: 'POST',
      url: '/api/comm/task/update',
      payload: { taskId: task.id, status: 'COMPLETED', outputData: 'again' },
      token,
    });
    assert.equal(twice.statusCode, 409, twice.body);
    const none = await stack.request({
      method: 'GET',
      url: '/api/comm/task/fetch?workflowNames=transcode',
      token,
    });
    assert.deepEqual(none.json<CommFetchAnswer>(), { task: null });
  });

  test('FAILED fails the attempt; bad input is a 400 with the field; an unfetched task 404', async () => {
    const task = await createTask(stack, { workflow: 'transcode', params: { n: 1 } });
    const fetched = await stack.request({
      method: 'GET',
      url: '/api/comm/task/fetch?workflowNames=transcode',
    });
    assert.equal(fetched.json<CommFetchAnswer>().task?.taskId, task.id);
    const bad = await stack.request({
      method: 'POST',
      url: '/api/comm/task/update',
      payload: { taskId: task.id, status: 'DONE' },
    });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.match(bad.body, /\/body\/status/);
    const failed = await stack.request({
      method: 'POST',
      url: '/api/comm/task/update',
      payload: { taskId: task.id, status: 'FAILED', error: 'codec missing' },
    });
    assert.equal(failed.statusCode, 200, failed.body);
    const ended = failed.json<CommUpdateAnswer>().task;
    assert.equal(ended.status, 'failed');
    assert.equal(ended.error?.message, 'codec missing');
    const other = await createTask(stack, { workflow: 'transcode', params: { n: 2 } });
    const unfetched = await stack.request({
      method: 'POST',
      url: '/api/comm/task/update',
      payload: { taskId: other.id, status: 'COMPLETED' },
    });
    assert.equal(unfetched.statusCode, 404, unfetched.body);
  });

  test('/metrics shows leases: active, expired, round trip', async () => {
    const res = await stack.request({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /^taskdock_leases_active \d+$/m);
    assert.match(res.body, /^taskdock_leases_expired_total \d+$/m);
    assert.match(res.body, /^taskdock_leases_total [1-9]\d*$/m);
    assert.match(res.body, /^taskdock_lease_round_trip_seconds_count [1-9]\d*$/m);
  });
});
