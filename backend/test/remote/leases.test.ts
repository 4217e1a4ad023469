import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type {
  HeartbeatAnswer,
  Stats,
  Task,
  TaskLogs,
  WorkflowList,
} from '@taskdock/shared/contract';
import { connectSse } from '../helpers/sse-client.ts';
import { startStack, TEST_TOKEN, type TestStack } from '../helpers/stack.ts';
import { createTask, declare, lease, leaseCall, waitUntil, workerToken } from './remote-helpers.ts';

const LEASE_MS = 800;

describe('remote workers: the lease protocol against a real stack', () => {
  let stack: TestStack;
  let base: string;
  before(async () => {
    stack = await startStack({ worker: false, remote: { leaseMs: LEASE_MS, maxStalls: 2 } });
    await stack.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
    await declare(stack, 'render');
    await declare(stack, 'poll');
  });
  after(() => stack.close());

  test('a declared workflow is listed and validates params at create', async () => {
    const list = (
      await stack.request({ method: 'GET', url: '/api/workflows' })
    ).json<WorkflowList>();
    const render = list.items.find((w) => w.name === 'render');
    assert.ok(render, 'render is listed');
    assert.deepEqual(render.paramsSchema, {
      type: 'object',
      properties: { n: { type: 'integer' } },
      required: ['n'],
      additionalProperties: false,
    });
    const bad = await stack.request({
      method: 'POST',
      url: '/api/tasks',
      payload: { workflow: 'render', params: { n: 'x' } },
    });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.match(bad.body, /\/body\/params\/n/);
    const taken = await stack.request({
      method: 'PUT',
      url: '/api/workflows/shell',
      payload: { paramsSchema: { type: 'object' }, remote: true },
    });
    assert.equal(taken.statusCode, 409, taken.body);
    assert.equal(taken.json<{ error: { code: string } }>().error.code, 'NAME_TAKEN');
  });

  test('lease → heartbeat progress and logs → complete, seen over SSE', async () => {
    const auth = { authorization: `Bearer ${TEST_TOKEN}` };
    const sse = await connectSse(`${base}/api/events`, auth);
    try {
      const { token } = await workerToken(stack, 'gpu-1', ['render*']);
      const task = await createTask(stack, { workflow: 'render', params: { n: 1 } });
      const [got] = await lease(stack, { workerId: 'gpu-1', workflows: ['render'] }, token);
      assert.ok(got);
      assert.equal(got.task.id, task.id);
      assert.deepEqual(got.task.params, { n: 1 });
      assert.equal(got.task.status, 'running');
      assert.ok(Date.parse(got.expiresAt) > Date.now());
      const beat = await leaseCall(
        stack,
        got.leaseId,
        'heartbeat',
        { progress: { percent: 40, step: 'frames' }, logs: ['frame 1 of 3'] },
        token,
      );
      assert.equal(beat.statusCode, 200, beat.body);
      assert.equal(beat.json<HeartbeatAnswer>().cancelRequested, false);
      const mid = await stack.waitForTask(task.id, (t) => t.progress.percent === 40);
      assert.equal(mid.progress.step, 'frames');
      const done = await leaseCall(
        stack,
        got.leaseId,
        'complete',
        { result: { frames: 3 } },
        token,
      );
      assert.equal(done.statusCode, 200, done.body);
      const finished = done.json<Task>();
      assert.equal(finished.status, 'completed');
      assert.deepEqual(finished.result, { frames: 3 });
      assert.equal(finished.attempts, 1);
      const events = await sse.waitFor((all) =>
        all.some((e) => e.event === 'completed' && e.data.includes(task.id)),
      );
      const mine = events.filter((e) => e.data.includes(task.id)).map((e) => e.event);
      assert.deepEqual(
        mine.filter((e) => e !== 'queued'),
        ['created', 'running', 'progress', 'completed'],
      );
      const logs = (
        await stack.request({ method: 'GET', url: `/api/tasks/${task.id}/logs` })
      ).json<TaskLogs>();
      assert.ok(logs.lines.some((l) => l.text === 'frame 1 of 3' && l.stream === 'stdout'));
      const again = await leaseCall(stack, got.leaseId, 'complete', { result: 'twice' }, token);
      assert.equal(again.statusCode, 409, again.body);
      assert.equal(again.json<{ error: { code: string } }>().error.code, 'LEASE_LOST');
    } finally {
      sse.close();
    }
  });

  test('a task with an owner is listed as running while leased', async () => {
    const task = await createTask(stack, { workflow: 'render', params: { n: 8 }, owner: 'ana' });
    const [got] = await lease(stack, { workerId: 'w-owner', workflows: ['render'] });
    assert.equal(got?.task.id, task.id);
    await waitUntil(async () => {
      const res = await stack.request({ method: 'GET', url: '/api/tasks?status=running' });
      return res.json<{ items: Task[] }>().items.some((t) => t.id === task.id);
    });
    assert.equal((await leaseCall(stack, got.leaseId, 'complete')).statusCode, 200);
  });

  test('fail with retry re-queues with an attempt counted; retryable false fails at once', async () => {
    const task = await createTask(stack, {
      workflow: 'render',
      params: { n: 2 },
      maxAttempts: 3,
      backoffMs: 0,
    });
    const [first] = await lease(stack, { workerId: 'w-fail', workflows: ['render'] });
    assert.equal(first?.task.id, task.id);
    const failed = await leaseCall(stack, first.leaseId, 'fail', {
      error: { message: 'GPU out of memory', code: 'OOM' },
    });
    assert.equal(failed.statusCode, 200, failed.body);
    assert.equal(failed.json<Task>().status, 'queued');
    assert.equal(failed.json<Task>().attempts, 1);
    const [second] = await lease(stack, {
      workerId: 'w-fail',
      workflows: ['render'],
      waitMs: 2000,
    });
    assert.equal(second?.task.id, task.id);
    const final = await leaseCall(stack, second.leaseId, 'fail', {
      error: { message: 'bad scene file', code: 'BAD_SCENE' },
      retryable: false,
    });
    assert.equal(final.statusCode, 200, final.body);
    const ended = final.json<Task>();
    assert.equal(ended.status, 'failed');
    assert.equal(ended.attempts, 2);
    assert.equal(ended.error?.message, 'bad scene file');
    assert.equal(ended.error?.code, 'BAD_SCENE');
  });

  test('release puts the task back with no attempt counted', async () => {
    const task = await createTask(stack, { workflow: 'render', params: { n: 3 } });
    const [got] = await lease(stack, { workerId: 'w-release', workflows: ['render'] });
    assert.equal(got?.task.id, task.id);
    const released = await leaseCall(stack, got.leaseId, 'release');
    assert.equal(released.statusCode, 200, released.body);
    assert.equal(released.json<Task>().status, 'queued');
    assert.equal(released.json<Task>().attempts, 0);
    const [again] = await lease(stack, { workerId: 'w-release', workflows: ['render'] });
    assert.equal(again?.task.id, task.id);
    assert.equal(again.task.attempts, 1);
    const done = await leaseCall(stack, again.leaseId, 'complete', { result: 'ok' });
    assert.equal(done.json<Task>().attempts, 1);
  });

  test('a worker that stops heartbeating: re-queued with no attempt, completed once by another, the late one 409', async () => {
    const task = await createTask(stack, { workflow: 'render', params: { n: 4 } });
    const [first] = await lease(stack, { workerId: 'w-dies', workflows: ['render'] });
    assert.equal(first?.task.id, task.id);
    // BullMQ's stall check puts the job back a moment before the lease engine takes back the
    // start it counted: wait for both, so a count that stayed at 1 times out here.
    const requeued = await stack.waitForTask(
      task.id,
      (t) => t.status === 'queued' && t.attempts === 0,
      5000,
    );
    assert.equal(requeued.attempts, 0);
    const lost = await waitUntil(async () => {
      const stats = (await stack.request({ method: 'GET', url: '/api/stats' })).json<Stats>();
      return stats.workers.find((w) => w.id === 'w-dies' && w.remote?.lost);
    });
    assert.equal(lost.remote?.leases, 0);
    const [second] = await lease(stack, { workerId: 'w-lives', workflows: ['render'] });
    assert.equal(second?.task.id, task.id);
    assert.equal(second.task.attempts, 1);
    const late = await leaseCall(stack, first.leaseId, 'complete', { result: 'first' });
    assert.equal(late.statusCode, 409, late.body);
    assert.equal(late.json<{ error: { code: string } }>().error.code, 'LEASE_LOST');
    const beat = await leaseCall(stack, first.leaseId, 'heartbeat');
    assert.equal(beat.statusCode, 409, beat.body);
    const done = await leaseCall(stack, second.leaseId, 'complete', { result: 'second' });
    assert.equal(done.statusCode, 200, done.body);
    const final = await stack.waitForTask(task.id);
    assert.equal(final.status, 'completed');
    assert.equal(final.result, 'second');
    assert.equal(final.attempts, 1);
    const lateAgain = await leaseCall(stack, first.leaseId, 'complete', { result: 'first' });
    assert.equal(lateAgain.statusCode, 409);
    assert.equal((await stack.engine.get(task.id))?.result, 'second');
  });

  test('a task whose leases expire TASKDOCK_MAX_STALLS times fails with STALLED', async () => {
    const task = await createTask(stack, { workflow: 'render', params: { n: 5 } });
    const [first] = await lease(stack, { workerId: 'w-stall', workflows: ['render'] });
    assert.equal(first?.task.id, task.id);
    await stack.waitForTask(task.id, (t) => t.status === 'queued', 5000);
    const [second] = await lease(stack, { workerId: 'w-stall', workflows: ['render'] });
    assert.equal(second?.task.id, task.id);
    const failed = await stack.waitForTask(task.id, undefined, 5000);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'STALLED');
  });

  test('tokens: revoked → 401 at once; render* cannot lease shell or read tasks; unknown lease 404', async () => {
    const { id, token } = await workerToken(stack, 'render-box', ['render*']);
    const shell = await stack.request({
      method: 'POST',
      url: '/api/leases',
      payload: { workerId: 'box', workflows: ['shell'] },
      token,
    });
    assert.equal(shell.statusCode, 403, shell.body);
    const tasks = await stack.request({ method: 'GET', url: '/api/tasks', token });
    assert.equal(tasks.statusCode, 403, tasks.body);
    const tokens = await stack.request({ method: 'GET', url: '/api/worker-tokens', token });
    assert.equal(tokens.statusCode, 403, tokens.body);
    const otherDecl = await stack.request({
      method: 'PUT',
      url: '/api/workflows/paint',
      payload: { paramsSchema: { type: 'object' }, remote: true },
      token,
    });
    assert.equal(otherDecl.statusCode, 403, otherDecl.body);
    await declare(stack, 'render-hd', token);
    const unknown = await leaseCall(stack, 'no-such-lease', 'heartbeat', {}, token);
    assert.equal(unknown.statusCode, 404, unknown.body);
    assert.equal(
      (await lease(stack, { workerId: 'box', workflows: ['render*'] }, token)).length,
      0,
    );
    const listed = await stack.request({ method: 'GET', url: '/api/worker-tokens' });
    assert.ok(!listed.body.includes(token), 'the token itself is never listed');
    const revoked = await stack.request({ method: 'DELETE', url: `/api/worker-tokens/${id}` });
    assert.equal(revoked.statusCode, 204, revoked.body);
    const after = await stack.request({
      method: 'POST',
      url: '/api/leases',
      payload: { workerId: 'box', workflows: ['render'] },
      token,
    });
    assert.equal(after.statusCode, 401, after.body);
  });

  test('input errors are 400s with the field; a lease of a workflow the token does not own 403', async () => {
    const cases: [string, string, object, string][] = [
      ['POST', '/api/leases', { workerId: 'w', workflows: ['render'], max: 101 }, '/body/max'],
      [
        'POST',
        '/api/leases',
        { workerId: 'w', workflows: ['render'], waitMs: 30001 },
        '/body/waitMs',
      ],
      ['POST', '/api/leases', { workerId: 'w', workflows: [] }, '/body/workflows'],
      ['POST', '/api/leases', { workerId: 'w', workflows: ['nope'] }, '/body/workflows/0'],
      [
        'POST',
        '/api/leases/abc/heartbeat',
        { progress: { percent: 150 } },
        '/body/progress/percent',
      ],
      ['POST', '/api/leases/abc/fail', { error: {} }, '/body/error/message'],
      ['PUT', '/api/workflows/x1', { paramsSchema: { type: 'object' } }, '/body/remote'],
      [
        'PUT',
        '/api/workflows/x2',
        { paramsSchema: { type: 'nonsense' }, remote: true },
        '/body/paramsSchema',
      ],
      ['POST', '/api/worker-tokens', { name: '' }, '/body/name'],
    ];
    for (const [method, url, payload, field] of cases) {
      const res = await stack.request({ method: method as 'POST', url, payload });
      assert.equal(res.statusCode, 400, `${url} ${res.body}`);
      const body = res.json<{ error: { code: string; details?: { path: string }[] } }>();
      assert.ok(
        body.error.details?.some((d) => d.path === field),
        `${url}: ${res.body}`,
      );
    }
    await stack.client.set('taskdock:worker:local-1', JSON.stringify({ id: 'local-1', host: 'h' }));
    const impostor = await stack.request({
      method: 'POST',
      url: '/api/leases',
      payload: { workerId: 'local-1', workflows: ['render'] },
    });
    assert.equal(impostor.statusCode, 400, impostor.body);
    assert.match(impostor.body, /\/body\/workerId/);
    const task = await createTask(stack, { workflow: 'render', params: { n: 10 } });
    const [got] = await lease(stack, { workerId: 'w-owned', workflows: ['render'] });
    assert.equal(got?.task.id, task.id);
    const { token } = await workerToken(stack, 'painter', ['paint*']);
    const stolen = await leaseCall(stack, got.leaseId, 'complete', { result: 'mine' }, token);
    assert.equal(stolen.statusCode, 403, stolen.body);
    assert.equal((await leaseCall(stack, got.leaseId, 'complete')).statusCode, 200);
  });

  test('DELETE of a declaration: new tasks 400, queued ones can still be leased', async () => {
    await declare(stack, 'bake');
    const queued = await createTask(stack, { workflow: 'bake', params: { n: 1 } });
    const removed = await stack.request({ method: 'DELETE', url: '/api/workflows/bake' });
    assert.equal(removed.statusCode, 204, removed.body);
    const refused = await stack.request({
      method: 'POST',
      url: '/api/tasks',
      payload: { workflow: 'bake', params: { n: 2 } },
    });
    assert.equal(refused.statusCode, 400, refused.body);
    const [got] = await lease(stack, { workerId: 'w-bake', workflows: ['bake'] });
    assert.equal(got?.task.id, queued.id);
    assert.equal((await leaseCall(stack, got.leaseId, 'complete')).statusCode, 200);
  });

  test('a waiting long-poll answers within 50 ms of a task’s creation', async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const polling = stack.request({
        method: 'POST',
        url: '/api/leases',
        payload: { workerId: 'w-poll', workflows: ['poll'], waitMs: 5000 },
      });
      await new Promise((r) => setTimeout(r, 100));
      const created = performance.now();
      const task = await createTask(stack, { workflow: 'poll', params: { n: i } });
      const answer = await polling;
      latencies.push(performance.now() - created);
      assert.equal(answer.json<{ leases: { task: Task }[] }>().leases[0]?.task.id, task.id);
    }
    assert.ok(Math.max(...latencies) < 50, `latencies ${latencies.map((l) => l.toFixed(1))}`);
    const empty = performance.now();
    const none = await lease(stack, { workerId: 'w-poll', workflows: ['poll'], waitMs: 300 });
    assert.deepEqual(none, []);
    assert.ok(performance.now() - empty >= 290, 'an empty long-poll waits its waitMs');
  });
});
