import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import type { CreateTask, Task } from '../../src/contract/index.ts';
import { InvalidInputError, NotFoundError } from '../../src/engine/errors.ts';
import { type ProbeServer, startProbeServer } from '../helpers/probe-server.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';

describe('task engine', () => {
  let stack: TestStack;
  let probe: ProbeServer;
  before(async () => {
    stack = await startStack({ worker: { concurrency: 4, globalConcurrency: { http: 2 } } });
    probe = await startProbeServer();
  });
  after(async () => {
    await stack.close();
    await probe.close();
  });

  const create = async (input: CreateTask) => (await stack.engine.create(input)).task;

  test('timeoutMs fails the task with TIMEOUT and kills its process', async () => {
    const started = Date.now();
    const task = await create({
      workflow: 'shell',
      params: { command: 'sleep', args: ['30'] },
      timeoutMs: 300,
    });
    const failed = await stack.waitForTask(task.id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'TIMEOUT');
    assert.match(failed.error?.message ?? '', /Timed out after 300 ms/);
    assert.ok(Date.now() - started < 5000);
  });

  test('retries with exponential backoff until an attempt succeeds; attempts are counted', async () => {
    const counter = path.join(os.tmpdir(), `taskdock-attempts-${process.pid}-${Date.now()}`);
    const script = `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; [ $n -ge 3 ] || { echo "attempt $n failed" >&2; exit 3; }`;
    const task = await create({
      workflow: 'shell',
      params: { command: 'sh', args: ['-c', script] },
      maxAttempts: 3,
      backoffMs: 150,
    });
    const done = await stack.waitForTask(task.id);
    assert.equal(done.status, 'completed');
    assert.equal(done.attempts, 3);
    assert.equal(done.maxAttempts, 3);
    // Backoff waits 150 ms, then 300 ms.
    const elapsed = Date.parse(done.finishedAt as string) - Date.parse(done.createdAt);
    assert.ok(elapsed >= 450, `backoff was honoured (${elapsed} ms)`);
    await rm(counter, { force: true });
  });

  test('a task that keeps failing ends failed after maxAttempts with the stderr tail', async () => {
    const task = await create({
      workflow: 'shell',
      params: { command: 'sh', args: ['-c', 'echo boom >&2; exit 7'] },
      maxAttempts: 2,
      backoffMs: 10,
    });
    const failed = await stack.waitForTask(task.id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.attempts, 2);
    assert.equal(failed.error?.code, 'EXIT_CODE');
    assert.match(failed.error?.message ?? '', /exited with code 7:\nboom/);
  });

  test('a command that does not exist fails with COMMAND_NOT_FOUND', async () => {
    const task = await create({ workflow: 'shell', params: { command: 'no-such-command-xyz' } });
    const failed = await stack.waitForTask(task.id);
    assert.equal(failed.error?.code, 'COMMAND_NOT_FOUND');
  });

  test('shell progress lines set progress with the step while the task runs', async () => {
    const task = await create({
      workflow: 'shell',
      params: { command: 'sh', args: ['-c', 'echo "::progress 40 compiling"; sleep 2'] },
    });
    const running = await stack.waitForTask(task.id, (t) => t.progress.percent === 40);
    assert.equal(running.status, 'running');
    assert.deepEqual(running.progress, { percent: 40, step: 'compiling' });
    await stack.engine.cancel(task.id);
  });

  test('the http workflow returns status and body, and fails on an unexpected status', async () => {
    const ok = await create({ workflow: 'http', params: { url: `${probe.url}/hold?id=http-ok` } });
    const done = await stack.waitForTask(ok.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual((done.result as { status: number; body: unknown }).body, {
      key: '',
      id: 'http-ok',
    });
    const bad = await create({
      workflow: 'http',
      params: { url: `${probe.url}/hold`, expectStatus: 201 },
    });
    const failed = await stack.waitForTask(bad.id);
    assert.equal(failed.error?.code, 'HTTP_STATUS');
  });

  test('per-workflow global concurrency holds (http limited to 2)', async () => {
    const key = `global-${Date.now()}`;
    const tasks = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        create({
          workflow: 'http',
          params: { url: `${probe.url}/hold?key=${key}&id=${key}-${i}&ms=150` },
        }),
      ),
    );
    for (const t of tasks) assert.equal((await stack.waitForTask(t.id)).status, 'completed');
    assert.equal(probe.maxInFlight.get(key), 2);
  });

  test('priority: a lower number runs first; runAt schedules for later', async () => {
    const solo = await startStack({ redis: stack.redis, worker: false });
    try {
      const at = new Date(Date.now() + 700).toISOString();
      const later = await create({ workflow: 'sleep', params: { ms: 0 }, runAt: at });
      assert.equal(later.status, 'scheduled');
      assert.equal(later.scheduledFor?.slice(0, 19), at.slice(0, 19));
      const done = await stack.waitForTask(later.id);
      assert.ok(Date.parse(done.startedAt as string) >= Date.parse(at) - 5);
    } finally {
      await solo.close();
    }
  });

  test('a job added by a plain BullMQ producer is run and listed like any task', async () => {
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

  test('cron schedules create tasks until removed; bad schedules name the field', async () => {
    const { engine } = stack;
    const schedule = await engine.upsertSchedule('every-second', {
      workflow: 'sleep',
      pattern: '* * * * * *',
      params: { ms: 0 },
      owner: 'cron',
    });
    assert.equal(schedule.pattern, '* * * * * *');
    assert.ok(schedule.nextRunAt);
    assert.deepEqual(
      (await engine.listSchedules()).map((s) => s.id),
      ['every-second'],
    );

    let runs: Task[] = [];
    for (let i = 0; i < 100 && runs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      runs = (await engine.list({ owner: 'cron', status: 'completed' })).items;
    }
    assert.ok(runs.length >= 1, 'the schedule created a task that ran');
    assert.equal(runs[0]?.source, 'schedule:every-second');

    await engine.removeSchedule('every-second');
    await assert.rejects(engine.removeSchedule('every-second'), NotFoundError);
    const invalid = (path: string) => (err: unknown) =>
      err instanceof InvalidInputError && err.fields[0]?.path === path;
    await assert.rejects(
      engine.upsertSchedule('bad', {
        workflow: 'sleep',
        pattern: 'every tuesday',
        params: { ms: 0 },
      }),
      invalid('/pattern'),
    );
    await assert.rejects(
      engine.upsertSchedule('bad', { workflow: 'sleep', pattern: '* * * * *', params: {} }),
      invalid('/params/ms'),
    );
  });
});
