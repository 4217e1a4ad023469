import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Task, TaskList } from '@taskdock/shared/contract';
import { startStack, type TestStack } from '../helpers/stack.ts';

describe('tasks API', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  const create = (payload: object) => stack.request({ method: 'POST', url: '/api/tasks', payload });

  test('POST /api/tasks creates a task that a worker runs to completion', async () => {
    const res = await create({
      workflow: 'sleep',
      params: { ms: 20, steps: 2 },
      owner: 'ann',
      source: 'test',
    });
    assert.equal(res.statusCode, 201);
    const task = res.json<Task>();
    assert.match(task.id, /^sleep:/);
    assert.equal(task.status, 'queued');
    assert.deepEqual(task.params, { ms: 20, steps: 2 });
    assert.equal(task.owner, 'ann');
    const done = await stack.waitForTask(task.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.result, { sleptMs: 20 });
    assert.equal(done.progress.percent, 100);
    assert.ok(done.startedAt && done.finishedAt);
  });

  test('schema defaults are applied to params before enqueueing', async () => {
    const res = await create({ workflow: 'sleep', params: { ms: 0 } });
    assert.equal(res.statusCode, 201);
    assert.deepEqual(res.json<Task>().params, { ms: 0, steps: 1 });
  });

  test('400 names the failing field: unknown workflow, invalid params, wrong types', async () => {
    const unknown = await create({ workflow: 'nope', params: {} });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().error.code, 'UNKNOWN_WORKFLOW');
    assert.equal(unknown.json().error.details[0].path, '/body/workflow');

    const badParams = await create({ workflow: 'sleep', params: { ms: 'soon' } });
    assert.equal(badParams.statusCode, 400);
    assert.equal(badParams.json().error.code, 'INVALID_PARAMS');
    assert.deepEqual(
      badParams.json().error.details.map((d: { path: string }) => d.path),
      ['/body/params/ms'],
    );

    const missing = await create({ workflow: 'shell', params: {} });
    assert.equal(missing.json().error.details[0].path, '/body/params/command');

    const wrongType = await create({ workflow: 'sleep', params: { ms: 1 }, priority: 'high' });
    assert.equal(wrongType.statusCode, 400);
    assert.equal(wrongType.json().error.code, 'VALIDATION_FAILED');
    assert.equal(wrongType.json().error.details[0].path, '/body/priority');

    const extra = await create({ workflow: 'sleep', params: { ms: 1 }, color: 'red' });
    assert.equal(extra.statusCode, 400);
    assert.equal(extra.json().error.details[0].path, '/body/color');

    const both = await create({
      workflow: 'sleep',
      params: { ms: 1 },
      delayMs: 5,
      runAt: new Date().toISOString(),
    });
    assert.equal(both.statusCode, 400);
    assert.equal(both.json().error.details[0].path, '/body/runAt');
  });

  test('malformed JSON is a 400 INVALID_JSON, not a 500', async () => {
    const res = await stack.request({
      method: 'POST',
      url: '/api/tasks',
      headers: { 'content-type': 'application/json' },
      payload: '{"workflow": "sleep",',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'INVALID_JSON');
  });

  test('a body over 1 MiB is refused with 413 and nothing is queued', async () => {
    const before = (
      await stack.request({ method: 'GET', url: '/api/tasks?workflow=shell&limit=500' })
    ).json<TaskList>();
    const res = await create({
      workflow: 'shell',
      params: { command: 'echo', args: ['x'.repeat(1024 * 1024)] },
    });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error.code, 'PAYLOAD_TOO_LARGE');
    const afterList = (
      await stack.request({ method: 'GET', url: '/api/tasks?workflow=shell&limit=500' })
    ).json<TaskList>();
    assert.equal(afterList.items.length, before.items.length);
  });

  test('401 without or with a wrong token; liveness needs none', async () => {
    const none = await stack.request({ method: 'GET', url: '/api/tasks', token: null });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().error.code, 'UNAUTHORIZED');
    const wrong = await stack.request({ method: 'GET', url: '/api/tasks', token: 'x'.repeat(27) });
    assert.equal(wrong.statusCode, 401);
    const health = await stack.request({ method: 'GET', url: '/api/health', token: null });
    assert.deepEqual(health.json(), { status: 'ok' });
  });

  test('a non-loopback Host header is refused (DNS rebinding)', async () => {
    const res = await stack.request({
      method: 'GET',
      url: '/api/health',
      headers: { host: 'evil.example:80' },
    });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'FORBIDDEN_HOST');
    const ok = await stack.request({
      method: 'GET',
      url: '/api/health',
      headers: { host: 'localhost:1234' },
    });
    assert.equal(ok.statusCode, 200);
  });

  test('GET /api/tasks/:id returns the task; 404 for an unknown id, 400 for a malformed one', async () => {
    const { id } = (await create({ workflow: 'sleep', params: { ms: 0 } })).json<Task>();
    const found = await stack.request({ method: 'GET', url: `/api/tasks/${id}` });
    assert.equal(found.statusCode, 200);
    assert.equal(found.json<Task>().id, id);
    const get = (taskId: string) =>
      stack.request({ method: 'GET', url: `/api/tasks/${encodeURIComponent(taskId)}` });
    for (const missing of ['sleep:does-not-exist', 'no-such-workflow:1']) {
      const res = await get(missing);
      assert.equal(res.statusCode, 404, missing);
      assert.equal(res.json().error.code, 'NOT_FOUND');
    }
    for (const malformed of ['nocolon', 'bad queue:1', 'sleep:']) {
      const res = await get(malformed);
      assert.equal(res.statusCode, 400, malformed);
      assert.equal(res.json().error.code, 'VALIDATION_FAILED');
      assert.equal(res.json().error.details[0].path, '/params/id');
    }
  });

  test('an unknown route is a 404 in the error shape', async () => {
    const res = await stack.request({ method: 'GET', url: '/api/nothing-here' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'NOT_FOUND');
  });

  test('list filters by status, workflow, owner and text, newest first, with a cursor', async () => {
    const owner = `lister-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(
        (
          await create({ workflow: 'sleep', params: { ms: 0 }, owner, source: `batch-${i}` })
        ).json<Task>().id,
      );
    }
    const failing = (
      await create({ workflow: 'sleep', params: { ms: 1, failAt: 1 }, owner })
    ).json<Task>();
    await stack.waitForTask(failing.id);
    for (const id of ids) await stack.waitForTask(id);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/tasks?owner=${owner}&workflow=sleep&status=completed&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page: TaskList = (await stack.request({ method: 'GET', url: query })).json<TaskList>();
      assert.ok(page.items.length <= 3);
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [...ids].reverse());

    const failed = (
      await stack.request({ method: 'GET', url: `/api/tasks?owner=${owner}&status=failed` })
    ).json<TaskList>();
    assert.deepEqual(
      failed.items.map((t) => t.id),
      [failing.id],
    );
    assert.equal(failed.items[0]?.error?.code, 'FAIL_AT');

    const bySource = (
      await stack.request({ method: 'GET', url: `/api/tasks?q=BATCH-3` })
    ).json<TaskList>();
    assert.deepEqual(
      bySource.items.map((t) => t.id),
      [ids[3]],
    );
    const search = async (q: string) =>
      (await stack.request({ method: 'GET', url: `/api/tasks?q=${q}&limit=500` }))
        .json<TaskList>()
        .items.map((t) => t.id);
    assert.deepEqual(await search(ids[5] as string), [ids[5]]);
    assert.deepEqual(
      await search((ids[2] as string).slice('sleep:'.length)),
      [ids[2]],
      'a bare BullMQ job id finds its task',
    );
    assert.equal(
      (await search(owner.slice(2, 10))).length,
      8,
      'a part of the owner finds its tasks',
    );

    const badCursor = await stack.request({ method: 'GET', url: '/api/tasks?cursor=garbage' });
    assert.equal(badCursor.statusCode, 400);
    const badStatus = await stack.request({ method: 'GET', url: '/api/tasks?status=lost' });
    assert.equal(badStatus.statusCode, 400);
    assert.equal(badStatus.json().error.details[0].path, '/querystring/status');
  });

  test('bulk create queues all items, or none when one is invalid', async () => {
    const owner = `bulk-${Date.now()}`;
    const ok = await stack.request({
      method: 'POST',
      url: '/api/tasks/bulk',
      payload: { tasks: [1, 2, 3].map(() => ({ workflow: 'sleep', params: { ms: 0 }, owner })) },
    });
    assert.equal(ok.statusCode, 201);
    assert.equal(ok.json().items.length, 3);
    const bad = await stack.request({
      method: 'POST',
      url: '/api/tasks/bulk',
      payload: {
        tasks: [
          { workflow: 'sleep', params: { ms: 0 }, owner: `${owner}-x` },
          { workflow: 'sleep', params: { ms: -1 }, owner: `${owner}-x` },
        ],
      },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.details[0].path, '/body/tasks/1/params/ms');
    const listed = (
      await stack.request({ method: 'GET', url: `/api/tasks?owner=${owner}-x` })
    ).json<TaskList>();
    assert.equal(listed.items.length, 0);
  });

  test('idempotent create: the second call returns 200 and the same task', async () => {
    const key = `idem-${Date.now()}`;
    const first = await create({ workflow: 'sleep', params: { ms: 0 }, idempotencyKey: key });
    const second = await create({ workflow: 'sleep', params: { ms: 0 }, idempotencyKey: key });
    assert.equal(first.statusCode, 201);
    assert.equal(second.statusCode, 200);
    assert.equal(second.json<Task>().id, first.json<Task>().id);
    assert.equal(second.json<Task>().idempotencyKey, key);
  });

  test('cancel: 409 once final; retry: 409 unless failed or cancelled, then it runs again', async () => {
    const done = (await create({ workflow: 'sleep', params: { ms: 0 } })).json<Task>();
    await stack.waitForTask(done.id);
    const cancelDone = await stack.request({ method: 'POST', url: `/api/tasks/${done.id}/cancel` });
    assert.equal(cancelDone.statusCode, 409);
    assert.equal(cancelDone.json().error.code, 'ALREADY_FINISHED');
    const retryDone = await stack.request({ method: 'POST', url: `/api/tasks/${done.id}/retry` });
    assert.equal(retryDone.statusCode, 409);

    const failing = (
      await create({ workflow: 'sleep', params: { ms: 1, steps: 2, failAt: 2 } })
    ).json<Task>();
    const failed = await stack.waitForTask(failing.id);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error?.message ?? '', /step 2/);
    const retried = await stack.request({
      method: 'POST',
      url: `/api/tasks/${failing.id}/retry`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(retried.statusCode, 200);
    assert.notEqual(retried.json<Task>().status, 'failed');
    const again = await stack.waitForTask(failing.id);
    assert.equal(again.status, 'failed');
    assert.equal(again.attempts, 1, 'a retry starts the attempt count afresh');

    for (const action of ['cancel', 'retry']) {
      const res = await stack.request({
        method: 'POST',
        url: `/api/tasks/sleep:missing/${action}`,
      });
      assert.equal(res.statusCode, 404);
    }
  });

  test('DELETE removes the task (204), then it is 404 and not listed', async () => {
    const { id } = (
      await create({ workflow: 'sleep', params: { ms: 0 }, owner: 'deleter' })
    ).json<Task>();
    await stack.waitForTask(id);
    const res = await stack.request({ method: 'DELETE', url: `/api/tasks/${id}` });
    assert.equal(res.statusCode, 204);
    assert.equal((await stack.request({ method: 'GET', url: `/api/tasks/${id}` })).statusCode, 404);
    assert.equal(
      (await stack.request({ method: 'DELETE', url: `/api/tasks/${id}` })).statusCode,
      404,
    );
    const listed = (
      await stack.request({ method: 'GET', url: '/api/tasks?owner=deleter' })
    ).json<TaskList>();
    assert.equal(listed.items.length, 0);
  });

  test('GET /api/tasks/:id/logs returns the output lines with their stream', async () => {
    const { id } = (
      await create({
        workflow: 'shell',
        params: { command: 'sh', args: ['-c', 'echo out; echo warn >&2'] },
      })
    ).json<Task>();
    await stack.waitForTask(id);
    const res = await stack.request({ method: 'GET', url: `/api/tasks/${id}/logs` });
    assert.equal(res.statusCode, 200);
    const lines = res
      .json()
      .lines.map((l: { stream: string; text: string }) => `${l.stream}:${l.text}`);
    assert.deepEqual(lines.sort(), ['stderr:warn', 'stdout:out']);
    assert.equal(
      (await stack.request({ method: 'GET', url: '/api/tasks/shell:nope/logs' })).statusCode,
      404,
    );
  });

  test('health/ready reports redis latency and the live worker; workflows list their schema', async () => {
    const ready = await stack.request({ method: 'GET', url: '/api/health/ready' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().redis.ok, true);
    assert.equal(ready.json().workers.length, 1);
    assert.deepEqual(ready.json().workers[0].workflows, ['shell', 'http', 'sleep']);
    const workflows = await stack.request({ method: 'GET', url: '/api/workflows' });
    const shell = workflows.json().items.find((w: { name: string }) => w.name === 'shell');
    assert.equal(shell.workers, 1);
    assert.deepEqual(shell.paramsSchema.required, ['command']);
  });

  test('the OpenAPI document describes the task routes', async () => {
    const res = await stack.request({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.openapi.startsWith('3.'), true);
    assert.ok(doc.paths['/api/tasks/'].post.requestBody);
    assert.ok(doc.paths['/api/tasks/{id}/cancel']);
  });
});

describe('readiness without workers', () => {
  test('503 while no worker heartbeat is alive', async () => {
    const stack = await startStack({ worker: false });
    try {
      const res = await stack.request({ method: 'GET', url: '/api/health/ready' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().redis.ok, true);
      assert.deepEqual(res.json().workers, []);
    } finally {
      await stack.close();
    }
  });
});
