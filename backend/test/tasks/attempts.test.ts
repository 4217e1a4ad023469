import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Task, TaskAttempt } from '@taskdock/shared/contract';
import { toTaskSummary } from '../../src/tasks/task-mapper.ts';
import { waitUntil } from '../helpers/processes.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const outcomes = (task: Task) => (task.attemptHistory ?? []).map((a) => a.outcome);

describe('attempts, recorded as the task runs', () => {
  let stack: TestStack;
  let scratch: string;
  before(async () => {
    stack = await startStack();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'taskdock-attempts-'));
  });
  after(async () => {
    await stack.close();
    await rm(scratch, { recursive: true, force: true });
  });

  /** Waits until the relay has closed every attempt (it records them a moment after the fact). */
  const settled = (id: string) =>
    stack.waitForTask(
      id,
      (t) =>
        ['completed', 'failed', 'cancelled'].includes(t.status) &&
        (t.attemptHistory ?? []).length > 0 &&
        !outcomes(t).includes('running'),
    );

  test('a failed attempt and the retry that succeeds: two rows, each with its worker, times and logs', async () => {
    const marker = path.join(scratch, 'ran-once');
    const { task } = await stack.engine.create({
      workflow: 'shell',
      maxAttempts: 3,
      backoffMs: 0,
      params: {
        command: 'sh',
        args: [
          '-c',
          `if [ -f ${marker} ]; then echo second run; exit 0; fi; touch ${marker}; echo first run; exit 3`,
        ],
      },
    });
    const done = await settled(task.id);
    assert.equal(done.status, 'completed');
    const history = done.attemptHistory as TaskAttempt[];
    assert.deepEqual(
      history.map((a) => [a.number, a.outcome]),
      [
        [1, 'failed'],
        [2, 'completed'],
      ],
    );
    assert.match(history[0]?.error?.message ?? '', /exit|code 3/i);
    for (const attempt of history) {
      assert.equal(attempt.workerId, stack.worker?.id, 'the worker that ran it');
      assert.ok(attempt.finishedAt && attempt.durationMs !== undefined);
      assert.ok(Date.parse(attempt.finishedAt) >= Date.parse(attempt.startedAt));
    }
    assert.ok(Date.parse(history[1]?.startedAt ?? '') >= Date.parse(history[0]?.finishedAt ?? ''));
    assert.equal(done.firstStartedAt, history[0]?.startedAt);

    const logs = await stack.engine.logs(task.id);
    const attemptOf = (text: string) => logs.find((l) => l.text === text)?.attempt;
    assert.equal(attemptOf('first run'), 1);
    assert.equal(attemptOf('second run'), 2);
  });

  test('a cancelled run closes its attempt as cancelled', async () => {
    const { task } = await stack.engine.create({ workflow: 'sleep', params: { ms: 20_000 } });
    await stack.waitForTask(task.id, (t) => outcomes(t).includes('running'));
    await stack.engine.cancel(task.id);
    const done = await settled(task.id);
    assert.deepEqual(outcomes(done), ['cancelled']);
  });

  test('updatedAt moves with progress; lists carry no attempt history', async () => {
    const { task } = await stack.engine.create({
      workflow: 'sleep',
      params: { ms: 1200, steps: 3 },
    });
    const early = await stack.waitForTask(task.id, (t) => t.progress.percent >= 33);
    const later = await stack.waitForTask(task.id, (t) => t.progress.percent >= 66);
    assert.ok(Date.parse(later.updatedAt) > Date.parse(early.updatedAt), 'updatedAt moved');
    assert.ok(Date.parse(later.updatedAt) > Date.parse(later.startedAt ?? ''));
    const { items } = await stack.engine.list({ limit: 5 });
    assert.ok(items.length > 0);
    assert.ok(items.every((t) => !('attemptHistory' in t)));
    await stack.waitForTask(task.id);
  });

  test("a schedule's task shows the schedule's name", () => {
    const hash = { timestamp: '1796152760000', data: '{}', opts: '{}' };
    const task = toTaskSummary('shell', 'repeat:nightly-backup:1796152760000', 'waiting', hash);
    assert.equal(task.schedule, 'nightly-backup');
    assert.equal(toTaskSummary('shell', 'abc', 'waiting', hash).schedule, undefined);
  });
});

describe('attempts across worker processes', () => {
  let stack: TestStack;
  const workers: WorkerProcess[] = [];
  const spawnWorker = (env: Record<string, string> = {}) => {
    const worker = startWorkerProcess({
      TASKDOCK_REDIS_URL: stack.redis.url,
      TASKDOCK_DATA_DIR: os.tmpdir(),
      TASKDOCK_LOCK_DURATION_MS: '2000',
      TASKDOCK_WORKFLOWS: 'sleep',
      ...env,
    });
    workers.push(worker);
    return worker;
  };
  before(async () => {
    stack = await startStack({ worker: false });
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await stack.close();
  });

  const holderPid = (task: Task) =>
    Number(task.attemptHistory?.at(-1)?.workerId?.split('-').at(-2));

  test('kill -9 of the worker: the attempt is stalled, the next one completes on another worker', async () => {
    const victim = spawnWorker();
    await victim.ready;
    const { task } = await stack.engine.create({ workflow: 'sleep', params: { ms: 3000 } });
    const running = await stack.waitForTask(task.id, (t) => outcomes(t).includes('running'));
    assert.equal(holderPid(running), victim.pid, 'the attempt names the worker that holds it');
    await victim.kill();
    const survivor = spawnWorker();
    await survivor.ready;
    const done = await stack.waitForTask(
      task.id,
      (t) => t.status === 'completed' && outcomes(t).at(-1) === 'completed',
      30_000,
    );
    assert.deepEqual(outcomes(done), ['stalled', 'completed']);
    assert.equal(holderPid(done), survivor.pid);
    assert.equal(done.maxAttempts, 1, 'the stall did not use up the only attempt');
    await survivor.stop();
  });

  test('a worker stopping past its grace period releases the task: released, not failed', async () => {
    const first = spawnWorker({ TASKDOCK_SHUTDOWN_GRACE_MS: '300' });
    await first.ready;
    const { task } = await stack.engine.create({ workflow: 'sleep', params: { ms: 2500 } });
    await stack.waitForTask(task.id, (t) => outcomes(t).includes('running'));
    assert.equal(await first.stop(), 0);
    assert.ok(
      await waitUntil(async () => {
        const t = await stack.engine.get(task.id);
        return t !== null && outcomes(t).at(-1) === 'released';
      }, 10_000),
      'the attempt is recorded as released',
    );
    const second = spawnWorker();
    await second.ready;
    const done = await stack.waitForTask(
      task.id,
      (t) => t.status === 'completed' && outcomes(t).at(-1) === 'completed',
      20_000,
    );
    assert.deepEqual(outcomes(done), ['released', 'completed']);
    await second.stop();
  });
});
