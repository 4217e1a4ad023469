// The engine contract: what every TaskEngine does, written against the interface only. Each
// implementation runs it once (redis.test.ts, memory.test.ts); Redis-only behaviour stays in
// backend/test/tasks/*.test.ts, marked "(Redis only)".
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type CreateTask,
  compareEventIds,
  isEventId,
  type Task,
  type TaskEvent,
} from '@taskdock/shared/contract';
import { isAlive } from '@taskdock/shared/node/processes';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/engine/errors.ts';
import type { StreamEvent, TaskEngine } from '../../src/engine/task-engine.ts';
import { type ProbeServer, startProbeServer } from '../helpers/probe-server.ts';
import { waitUntil } from '../helpers/processes.ts';
import { waitForTask } from '../helpers/wait-for-task.ts';

/** What a suite may ask of the runner, as TASKDOCK_* settings would. */
export interface EngineSettings {
  readonly concurrency?: number;
  readonly globalConcurrency?: Readonly<Record<string, number>>;
  readonly maxPerOwner?: number;
}

export interface EngineUnderTest {
  readonly engine: TaskEngine;
  close(): Promise<void>;
}

/** Makes a started engine whose tasks run (Redis: with a worker; memory: in the engine). */
export type MakeEngine = (settings: EngineSettings) => Promise<EngineUnderTest>;

const unique = (prefix: string) =>
  `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

export function engineContract(name: string, make: MakeEngine): void {
  describe(`engine contract: ${name}`, () => {
    let engine: TaskEngine;
    let underTest: EngineUnderTest;
    let probe: ProbeServer;
    before(async () => {
      underTest = await make({ concurrency: 4, globalConcurrency: { http: 2 }, maxPerOwner: 2 });
      engine = underTest.engine;
      probe = await startProbeServer();
    });
    after(async () => {
      await underTest.close();
      await probe.close();
    });

    const create = async (input: CreateTask) => (await engine.create(input)).task;
    const wait = (id: string, until?: (task: Task) => boolean, timeoutMs?: number) =>
      waitForTask(engine, id, until, timeoutMs);

    test('a created task is queued, runs and completes with its result and attempt record', async () => {
      const task = await create({ workflow: 'sleep', params: { ms: 20 }, source: 'contract' });
      assert.equal(task.status, 'queued');
      assert.equal(task.workflow, 'sleep');
      assert.equal((task.params as { ms: number }).ms, 20);
      assert.equal(task.attempts, 0);
      const done = await wait(task.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.progress, { percent: 100 });
      assert.equal(done.attempts, 1);
      assert.ok(done.startedAt && done.finishedAt);
      assert.ok(Date.parse(done.finishedAt) >= Date.parse(done.startedAt));
      assert.equal(await engine.get('sleep:no-such-task'), null);
    });

    test('each attempt is recorded with its outcome, error and timings; log lines name it', async () => {
      const task = await create({
        workflow: 'shell',
        params: { command: 'sh', args: ['-c', 'echo try; exit 2'] },
        maxAttempts: 2,
        backoffMs: 10,
      });
      // An engine may record an attempt a moment after the task moves on (the Redis relay does).
      const failed = await wait(
        task.id,
        (t) => t.status === 'failed' && (t.attemptHistory ?? []).length === 2,
      );
      assert.ok(failed.firstStartedAt && failed.startedAt);
      assert.ok(Date.parse(failed.firstStartedAt) < Date.parse(failed.startedAt));
      const history = failed.attemptHistory ?? [];
      assert.deepEqual(
        history.map((a) => [a.number, a.outcome, a.error?.code]),
        [
          [1, 'failed', 'EXIT_CODE'],
          [2, 'failed', 'EXIT_CODE'],
        ],
      );
      for (const attempt of history) {
        assert.ok(attempt.workerId && attempt.finishedAt && attempt.durationMs !== undefined);
      }
      const tries = (await engine.logs(task.id)).filter((l) => l.text === 'try');
      assert.deepEqual(
        tries.map((l) => l.attempt),
        [1, 2],
      );
    });

    test('checkTaskId refuses ids of no workflow and ids of no shape', async () => {
      await engine.checkTaskId('sleep:anything');
      await assert.rejects(engine.checkTaskId('no-such-workflow:1'), NotFoundError);
      await assert.rejects(engine.checkTaskId('not an id'), NotFoundError);
    });

    test('invalid input names every bad field; a batch with one bad task queues nothing', async () => {
      await assert.rejects(
        engine.create({ workflow: 'nope', params: {} }),
        (err) => err instanceof InvalidInputError && err.code === 'UNKNOWN_WORKFLOW',
      );
      await assert.rejects(
        engine.create({ workflow: 'sleep', params: {} }),
        (err) => err instanceof InvalidInputError && err.fields[0]?.path === '/params/ms',
      );
      const owner = unique('batch');
      await assert.rejects(
        engine.createMany([
          { workflow: 'sleep', params: { ms: 0 }, owner },
          { workflow: 'sleep', params: { ms: 'x' }, owner },
        ]),
        (err) =>
          err instanceof InvalidInputError &&
          err.fields.some((f) => f.path === '/tasks/1/params/ms'),
      );
      assert.equal((await engine.list({ owner })).items.length, 0, 'nothing was queued');
      const outcomes = await engine.createMany([
        { workflow: 'sleep', params: { ms: 0 }, owner },
        { workflow: 'sleep', params: { ms: 0 }, owner },
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.created),
        [true, true],
      );
    });

    test('an idempotency key returns the earlier task', async () => {
      const key = unique('idem');
      const first = await engine.create({
        workflow: 'sleep',
        params: { ms: 0 },
        idempotencyKey: key,
      });
      const second = await engine.create({
        workflow: 'sleep',
        params: { ms: 5 },
        idempotencyKey: key,
      });
      assert.equal(first.created, true);
      assert.equal(second.created, false);
      assert.equal(second.task.id, first.task.id);
      assert.equal(second.task.idempotencyKey, key);
    });

    test('lists are newest first in pages that neither skip nor repeat; filters and q search', async () => {
      const owner = unique('列表-owner');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(
          (await create({ workflow: 'sleep', params: { ms: 0 }, owner, source: `src-${i}` })).id,
        );
      }
      await Promise.all(ids.map((id) => wait(id)));
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 5; page++) {
        const list = await engine.list({ owner, limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...list.items.map((t) => t.id));
        if (!list.nextCursor) break;
        cursor = list.nextCursor;
      }
      assert.deepEqual(seen, [...ids].reverse(), 'every task once, newest first');
      const listed = (await engine.list({ owner, limit: 1 })).items[0];
      assert.equal(listed?.id, ids[4]);
      assert.equal((listed as { result?: unknown }).result, undefined, 'lists carry no result');

      assert.equal((await engine.list({ owner, status: 'completed' })).items.length, 5);
      assert.equal((await engine.list({ owner, status: 'failed' })).items.length, 0);
      assert.equal((await engine.list({ owner, workflow: 'shell' })).items.length, 0);
      // q: a substring of the owner, any case, CJK included; of a source; of an id.
      const byOwner = await engine.list({ q: owner.slice(0, 12).toUpperCase(), limit: 500 });
      assert.deepEqual(
        byOwner.items.filter((t) => t.owner === owner).map((t) => t.id),
        [...ids].reverse(),
      );
      const cjk = await engine.list({ q: '列表', limit: 500 });
      assert.ok(cjk.items.some((t) => t.id === ids[0]));
      const byId = await engine.list({ q: ids[2] as string });
      assert.deepEqual(
        byId.items.map((t) => t.id),
        [ids[2]],
      );
      await assert.rejects(
        engine.list({ cursor: 'bm90LWEtY3Vyc29y' }),
        (err) =>
          err instanceof InvalidInputError &&
          err.code === 'INVALID_CURSOR' &&
          err.fields[0]?.path === '/cursor',
      );
    });

    test('paging 2,000 tasks while more arrive yields each exactly once', async () => {
      const owner = unique('paging');
      const batch = async (n: number, who: string) =>
        (
          await engine.createMany(
            // Far ahead: they wait, and no other test waits behind them.
            Array.from({ length: n }, () => ({
              workflow: 'sleep',
              params: { ms: 0 },
              owner: who,
              delayMs: 3_600_000,
            })),
          )
        ).map((o) => o.task.id);
      const created = new Set<string>();
      for (let i = 0; i < 4; i++) for (const id of await batch(500, owner)) created.add(id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let page = 0;
      do {
        const list = await engine.list({ limit: 250, ...(cursor ? { cursor } : {}) });
        seen.push(...list.items.map((t) => t.id));
        cursor = list.nextCursor;
        if (page++ % 2 === 0) await batch(50, `${owner}-late`);
      } while (cursor);
      assert.equal(new Set(seen).size, seen.length, 'no task repeats');
      assert.equal([...created].filter((id) => !seen.includes(id)).length, 0, 'none is skipped');
    });

    test('logs keep stdout and stderr lines of a shell task, oldest first', async () => {
      const task = await create({
        workflow: 'shell',
        params: { command: 'sh', args: ['-c', 'echo one; echo two >&2; echo three'] },
      });
      assert.equal((await wait(task.id)).status, 'completed');
      const lines = await engine.logs(task.id);
      const out = lines.filter((l) => l.stream !== 'system');
      assert.deepEqual(
        out.filter((l) => l.stream === 'stdout').map((l) => l.text),
        ['one', 'three'],
      );
      assert.deepEqual(
        out.filter((l) => l.stream === 'stderr').map((l) => l.text),
        ['two'],
      );
      assert.deepEqual(
        (await engine.logs(task.id, 1)).map((l) => l.text),
        [lines.at(-1)?.text],
      );
      await assert.rejects(engine.logs('shell:no-such-task'), NotFoundError);
    });

    test('events: each change in order, replay after an id has no gap and no repeat', async () => {
      const seen: StreamEvent[] = [];
      const unsubscribe = engine.events.subscribe((e) => seen.push(e));
      const task = await create({ workflow: 'sleep', params: { ms: 30 } });
      try {
        await waitUntil(
          () => seen.some((e) => e.taskId === task.id && e.type === 'completed'),
          10_000,
        );
      } finally {
        unsubscribe();
      }
      const mine = seen.filter((e) => e.taskId === task.id && e.type !== 'progress');
      assert.deepEqual(
        mine.map((e) => e.type),
        ['created', 'running', 'completed'],
      );
      for (const event of seen) assert.ok(isEventId(event.id), event.id);
      for (let i = 1; i < seen.length; i++) {
        assert.ok(compareEventIds(seen[i - 1]?.id as string, seen[i]?.id as string) < 0);
      }
      const body = JSON.parse(mine[2]?.data as string) as TaskEvent;
      assert.equal(body.status, 'completed');
      assert.equal(body.workflow, 'sleep');

      const from = mine[0] as StreamEvent;
      const replayed: StreamEvent[] = [];
      for await (const event of engine.events.replay(from.id)) replayed.push(event);
      const after = seen.slice(seen.indexOf(from) + 1);
      assert.deepEqual(
        replayed.slice(0, after.length).map((e) => e.id),
        after.map((e) => e.id),
      );
      assert.ok(!replayed.some((e) => e.id === from.id), 'replay starts after the id');
      const newest = await engine.events.newestId();
      assert.ok(newest && compareEventIds(newest, from.id) > 0);
    });

    test('stats count created and finished tasks per workflow, with throughput and a worker', async () => {
      const before = await engine.stats();
      const wfBefore = before.workflows.find((w) => w.name === 'sleep');
      const tasks = await Promise.all(
        [0, 1, 2].map(() => create({ workflow: 'sleep', params: { ms: 0 } })),
      );
      await Promise.all(tasks.map((t) => wait(t.id)));
      let stats = await engine.stats();
      for (let i = 0; i < 100 && stats.totals.completed < before.totals.completed + 3; i++) {
        await new Promise((r) => setTimeout(r, 50));
        stats = await engine.stats();
      }
      assert.ok(stats.totals.created >= before.totals.created + 3);
      assert.ok(stats.totals.completed >= before.totals.completed + 3);
      const wf = stats.workflows.find((w) => w.name === 'sleep');
      assert.ok(wf && wf.totals.completed >= (wfBefore?.totals.completed ?? 0) + 3);
      assert.ok(wf.byStatus.completed >= 3);
      assert.ok(stats.throughput.last1m > 0);
      assert.ok(stats.workers.length >= 1);
      assert.ok((await engine.workers()).length >= 1);
      const workflows = await engine.workflows();
      assert.ok(workflows.some((w) => w.name === 'shell' && w.workers >= 1));
    });

    test('timeoutMs fails the task with TIMEOUT and kills its process', async () => {
      const started = Date.now();
      const task = await create({
        workflow: 'shell',
        params: { command: 'sleep', args: ['30'] },
        timeoutMs: 300,
      });
      const failed = await wait(task.id);
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
      const done = await wait(task.id);
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
      const failed = await wait(task.id);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.attempts, 2);
      assert.equal(failed.error?.code, 'EXIT_CODE');
      assert.match(failed.error?.message ?? '', /exited with code 7:\nboom/);
    });

    test('a command that does not exist fails with COMMAND_NOT_FOUND', async () => {
      const task = await create({ workflow: 'shell', params: { command: 'no-such-command-xyz' } });
      const failed = await wait(task.id);
      assert.equal(failed.error?.code, 'COMMAND_NOT_FOUND');
    });

    test('shell progress lines set progress with the step while the task runs', async () => {
      const task = await create({
        workflow: 'shell',
        params: { command: 'sh', args: ['-c', 'echo "::progress 40 compiling"; sleep 2'] },
      });
      const running = await wait(task.id, (t) => t.progress.percent === 40);
      assert.equal(running.status, 'running');
      assert.deepEqual(running.progress, { percent: 40, step: 'compiling' });
      await engine.cancel(task.id);
    });

    test('the http workflow returns status and body, and fails on an unexpected status', async () => {
      const ok = await create({
        workflow: 'http',
        params: { url: `${probe.url}/hold?id=http-ok` },
      });
      const done = await wait(ok.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual((done.result as { status: number; body: unknown }).body, {
        key: '',
        id: 'http-ok',
      });
      const bad = await create({
        workflow: 'http',
        params: { url: `${probe.url}/hold`, expectStatus: 201 },
      });
      const failed = await wait(bad.id);
      assert.equal(failed.error?.code, 'HTTP_STATUS');
    });

    test('per-workflow global concurrency holds (http limited to 2)', async () => {
      const key = unique('global');
      const tasks = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          create({
            workflow: 'http',
            params: { url: `${probe.url}/hold?key=${key}&id=${key}-${i}&ms=150` },
          }),
        ),
      );
      for (const t of tasks) assert.equal((await wait(t.id)).status, 'completed');
      assert.equal(probe.maxInFlight.get(key), 2);
    });

    test('per-owner limit holds (2 at once), the others wait queued', async () => {
      const owner = unique('owner');
      const key = unique('owner-key');
      const tasks = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          create({
            workflow: 'http',
            owner,
            params: { url: `${probe.url}/hold?key=${key}&id=${key}-${i}&ms=200` },
          }),
        ),
      );
      for (const t of tasks) assert.equal((await wait(t.id)).status, 'completed');
      assert.ok(
        (probe.maxInFlight.get(key) ?? 0) <= 2,
        `at most 2 ran (${probe.maxInFlight.get(key)})`,
      );
    });

    test('runAt schedules for later; the task is scheduled until then', async () => {
      const at = new Date(Date.now() + 700).toISOString();
      const later = await create({ workflow: 'sleep', params: { ms: 0 }, runAt: at });
      assert.equal(later.status, 'scheduled');
      assert.equal(later.scheduledFor?.slice(0, 19), at.slice(0, 19));
      const done = await wait(later.id);
      assert.ok(Date.parse(done.startedAt as string) >= Date.parse(at) - 5);
    });

    test('priority: with one slot, a lower number runs first (0 is highest)', async () => {
      const solo = await make({ concurrency: 1 });
      try {
        const blocker = await solo.engine.create({ workflow: 'sleep', params: { ms: 400 } });
        await waitForTask(solo.engine, blocker.task.id, (t) => t.status === 'running');
        // Each runs a moment, so their start times differ.
        const run = { workflow: 'sleep', params: { ms: 30 } } as const;
        const low = await solo.engine.create({ ...run, priority: 10 });
        const high = await solo.engine.create({ ...run, priority: 1 });
        const top = await solo.engine.create(run);
        const done = await Promise.all(
          [low, high, top].map((o) => waitForTask(solo.engine, o.task.id)),
        );
        const order = done
          .map((t, i) => ({
            name: ['low', 'high', 'top'][i],
            at: Date.parse(t.startedAt as string),
          }))
          .sort((a, b) => a.at - b.at)
          .map((t) => t.name);
        assert.deepEqual(order, ['top', 'high', 'low']);
      } finally {
        await solo.close();
      }
    });

    test('a scheduled task is cancelled and never runs', async () => {
      const task = await create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 600 });
      assert.equal(task.status, 'scheduled');
      assert.ok(task.scheduledFor);
      assert.equal((await engine.cancel(task.id)).status, 'cancelled');
      await new Promise((r) => setTimeout(r, 900));
      const later = await engine.get(task.id);
      assert.equal(later?.status, 'cancelled');
      assert.equal(later?.startedAt, undefined, 'it never started');
    });

    test('a running shell task is cancelled and its grandchild process dies too', async () => {
      const pidFile = path.join(os.tmpdir(), `taskdock-grandchild-${process.pid}-${Date.now()}`);
      // sh starts a background sleep (the grandchild), records its pid, then waits.
      const task = await create({
        workflow: 'shell',
        params: {
          command: 'sh',
          args: ['-c', `sleep 60 & echo $! > ${pidFile}; echo started; wait`],
        },
      });
      await wait(task.id, (t) => t.status === 'running');
      let grandchild = 0;
      for (let i = 0; i < 100 && !grandchild; i++) {
        grandchild = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
        if (!grandchild) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(grandchild > 0 && isAlive(grandchild), 'grandchild is running before cancel');

      const cancelled = await engine.cancel(task.id);
      assert.equal(cancelled.status, 'cancelled');
      assert.equal(cancelled.error, undefined);
      await waitUntil(() => !isAlive(grandchild), 2000);
      assert.equal(isAlive(grandchild), false, 'grandchild was killed with the tree');
      await rm(pidFile, { force: true });

      await assert.rejects(
        engine.cancel(task.id),
        (err) => err instanceof ConflictError && err.code === 'ALREADY_FINISHED',
      );
      const logs = await engine.logs(task.id);
      assert.ok(logs.some((l) => l.stream === 'system' && l.text === 'Cancelled'));
    });

    test('a cancelled task is not retried even with attempts left, and retry brings it back', async () => {
      const task = await create({ workflow: 'sleep', params: { ms: 5000 }, maxAttempts: 3 });
      await wait(task.id, (t) => t.status === 'running');
      assert.equal((await engine.cancel(task.id)).status, 'cancelled');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await engine.get(task.id))?.status, 'cancelled');
      await engine.retry(task.id);
      await wait(task.id, (t) => t.status === 'running');
      await assert.rejects(
        engine.retry(task.id),
        (err) => err instanceof ConflictError && err.code === 'NOT_RETRYABLE',
      );
      await engine.cancel(task.id);
    });

    test('a failed task is retried with new params; remove deletes a task for good', async () => {
      const task = await create({
        workflow: 'shell',
        params: { command: 'sh', args: ['-c', 'exit 1'] },
      });
      assert.equal((await wait(task.id)).status, 'failed');
      await assert.rejects(
        engine.retryWithParams(task.id, { command: 'sh', args: 'not-a-list' }),
        InvalidInputError,
      );
      await engine.retryWithParams(task.id, { command: 'sh', args: ['-c', 'exit 0'] });
      const done = await wait(task.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual((done.params as { args: string[] }).args, ['-c', 'exit 0']);
      await engine.remove(task.id);
      assert.equal(await engine.get(task.id), null);
      await assert.rejects(engine.remove(task.id), NotFoundError);
    });

    test('cron schedules create tasks until removed; bad schedules name the field', async () => {
      const owner = unique('cron');
      const schedule = await engine.upsertSchedule('every-second', {
        workflow: 'sleep',
        pattern: '* * * * * *',
        params: { ms: 0 },
        owner,
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
        runs = (await engine.list({ owner, status: 'completed' })).items;
      }
      assert.ok(runs.length >= 1, 'the schedule created a task that ran');
      assert.equal(runs[0]?.source, 'schedule:every-second');
      const [listed] = await engine.listSchedules();
      assert.ok(listed && listed.taskCount >= 2, 'its runs and the one waiting are counted');
      assert.ok(listed.lastRun, 'the last run is shown');
      assert.equal(listed.nextRuns.length, 5);

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

    test("a schedule's tasks name it in `schedule`", async () => {
      const owner = unique('named');
      await engine.upsertSchedule('named-runs', {
        workflow: 'sleep',
        pattern: '* * * * * *',
        params: { ms: 0 },
        owner,
      });
      try {
        let runs: Task[] = [];
        for (let i = 0; i < 100 && runs.length === 0; i++) {
          await new Promise((r) => setTimeout(r, 50));
          runs = (await engine.list({ owner, status: 'completed' })).items;
        }
        assert.equal(runs[0]?.schedule, 'named-runs');
      } finally {
        await engine.removeSchedule('named-runs');
      }
    });

    test('a schedule in a time zone runs at its times there; pause stops it, resume goes on', async () => {
      const made = await engine.upsertSchedule('paris-noon', {
        workflow: 'sleep',
        pattern: '0 12 * * *',
        tz: 'Europe/Paris',
        params: { ms: 0 },
      });
      assert.equal(made.tz, 'Europe/Paris');
      const next = new Date(made.nextRunAt as string);
      const parisHour = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Paris',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(next);
      assert.equal(parisHour, '12:00');
      const paused = await engine.pauseSchedule('paris-noon');
      assert.equal(paused.paused, true);
      assert.equal(paused.nextRunAt, undefined);
      const resumed = await engine.resumeSchedule('paris-noon');
      assert.equal(resumed.paused, false);
      assert.equal(resumed.nextRunAt, made.nextRunAt);
      await engine.removeSchedule('paris-noon');
      await assert.rejects(engine.pauseSchedule('paris-noon'), NotFoundError);
    });
  });
}
