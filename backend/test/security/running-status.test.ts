import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { Stats, Task, TaskEvent, TaskList, TaskLogs } from '@taskdock/shared/contract';
import { FINAL_STATUSES } from '@taskdock/shared/contract';
import { type ProbeServer, startProbeServer } from '../helpers/probe-server.ts';
import { waitUntil } from '../helpers/processes.ts';
import { connectSse, type SseClient } from '../helpers/sse-client.ts';
import { startStack, TEST_TOKEN, type TestStack } from '../helpers/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const SLOTS = 4;
const auth = { authorization: `Bearer ${TEST_TOKEN}` };
const ms = (iso: string | undefined) => (iso === undefined ? Number.NaN : Date.parse(iso));

// One worker process with 4 slots serving every built-in workflow (sleep, shell, http): a BullMQ
// Worker per queue, each of which could fetch jobs for the same 4 slots.
describe('"running" means the task\'s code runs', () => {
  let stack: TestStack;
  let worker: WorkerProcess;
  let base: string;
  let sse: SseClient;
  let probe: ProbeServer;

  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      ...init,
      headers: { ...auth, 'content-type': 'application/json', ...init.headers },
    });
    const body = await res.text();
    assert.ok(res.ok, `${init.method ?? 'GET'} ${path}: ${res.status} ${body}`);
    return (body ? JSON.parse(body) : undefined) as T;
  };
  const submit = async (tasks: object[]) =>
    (
      await api<{ items: { task: Task }[] }>('/api/tasks/bulk', {
        method: 'POST',
        body: JSON.stringify({ tasks }),
      })
    ).items.map((i) => i.task.id);
  const read = (ids: readonly string[]) =>
    Promise.all(ids.map((id) => api<Task>(`/api/tasks/${id}`)));

  /**
   * Samples every view of the tasks until all are final, failing on the first sample that shows
   * more than SLOTS running or a waiting task with a start time. Returns the tasks as they ended.
   */
  const sampleUntilFinal = async (ids: readonly string[], timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    let samples = 0;
    let sawWaiting = false;
    for (;;) {
      const [list, stats, tasks] = await Promise.all([
        api<TaskList>('/api/tasks?status=running&limit=100'),
        api<Stats>('/api/stats'),
        read(ids),
      ]);
      samples++;
      assert.ok(list.items.length <= SLOTS, `list: ${list.items.length} running`);
      for (const t of list.items) assert.ok(t.startedAt, `${t.id} is running with a start time`);
      assert.ok(stats.byStatus.running <= SLOTS, `stats: ${stats.byStatus.running} running`);
      const running = tasks.filter((t) => t.status === 'running');
      assert.ok(running.length <= SLOTS, `details: ${running.map((t) => t.id).join(', ')}`);
      for (const t of tasks.filter((x) => x.status === 'queued')) {
        sawWaiting = true;
        assert.equal(t.startedAt, undefined, `${t.id} waits for a slot, so it has not started`);
      }
      if (tasks.every((t) => FINAL_STATUSES.includes(t.status))) {
        assert.ok(samples >= 5, `sampled while they ran (${samples} samples)`);
        assert.ok(sawWaiting, 'some tasks were seen waiting for a slot');
        return tasks;
      }
      assert.ok(Date.now() < deadline, `not all final in time: ${JSON.stringify(tasks)}`);
      await new Promise((r) => setTimeout(r, 40));
    }
  };

  /** Start/finish times as reported: no instant has more than SLOTS tasks between the two. */
  const assertNeverOverSlots = (tasks: readonly Task[]) => {
    for (const t of tasks) {
      const at = ms(t.startedAt);
      assert.ok(at >= ms(t.createdAt), `${t.id} has a start time`);
      const overlapping = tasks.filter((o) => ms(o.startedAt) <= at && at < ms(o.finishedAt));
      assert.ok(
        overlapping.length <= SLOTS,
        `at ${t.startedAt} ${overlapping.length} tasks were running: ${overlapping.map((o) => o.id)}`,
      );
    }
    const starts = tasks.map((t) => ms(t.startedAt)).sort((a, b) => a - b);
    const firstFinish = Math.min(...tasks.map((t) => ms(t.finishedAt)));
    for (const start of starts.slice(SLOTS)) {
      assert.ok(start >= firstFinish, 'a task that waited started once an earlier one finished');
    }
  };

  /**
   * The SSE stream in event time (finishes before starts within a millisecond): never more than
   * SLOTS tasks between their `running` and final events; one `running` per task, sent when the
   * task started.
   */
  const assertSseNeverOverSlots = async (tasks: readonly Task[]) => {
    const ids = new Set(tasks.map((t) => t.id));
    const mine = (events: { data: string }[]) =>
      events.map((e) => JSON.parse(e.data) as TaskEvent).filter((e) => ids.has(e.taskId));
    const events = mine(
      await sse.waitFor(
        (all) =>
          mine(all).filter((e) => FINAL_STATUSES.includes(e.type as Task['status'])).length >=
          ids.size,
      ),
    );
    const order = (e: TaskEvent) => (e.type === 'running' ? 1 : 0);
    events.sort((a, b) => ms(a.ts) - ms(b.ts) || order(a) - order(b));
    const running = new Set<string>();
    for (const e of events) {
      if (e.type === 'running') running.add(e.taskId);
      else if (e.status !== 'running') running.delete(e.taskId);
      assert.ok(running.size <= SLOTS, `SSE: ${[...running]} running at ${e.ts}`);
    }
    for (const task of tasks) {
      const starts = events.filter((e) => e.taskId === task.id && e.type === 'running');
      assert.equal(starts.length, 1, `one running event for ${task.id}`);
      const lag = ms(starts[0]?.ts) - ms(task.startedAt);
      assert.ok(lag >= -5 && lag < 500, `${task.id}: running sent ${lag} ms after it started`);
    }
  };

  before(async () => {
    stack = await startStack({ worker: false });
    await stack.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
    worker = startWorkerProcess({
      TASKDOCK_REDIS_URL: stack.redis.url,
      TASKDOCK_DATA_DIR: os.tmpdir(),
      TASKDOCK_CONCURRENCY: String(SLOTS),
    });
    await worker.ready;
    sse = await connectSse(`${base}/api/events`, auth);
    probe = await startProbeServer();
  });
  after(async () => {
    sse?.close();
    await probe?.close();
    await worker?.stop();
    await stack?.close();
  });

  const sleep = (msToSleep: number) => ({ workflow: 'sleep', params: { ms: msToSleep } });
  /** A shell task whose first output line is the time (ms) its command began. */
  const stamp = (seconds: number) => ({
    workflow: 'shell',
    params: { command: 'sh', args: ['-c', `date +%s%3N; sleep ${seconds}`] },
  });
  const hold = (key: string, msToHold: number) => ({
    workflow: 'http',
    params: { url: `${probe.url}/hold?key=${key}&ms=${msToHold}` },
  });

  test('8 tasks on 4 slots, two queues: 4 run, 4 wait queued without a start time, all complete', async () => {
    // Sleep's Worker takes the 4 slots; shell's Worker must not start (or say it started) its 4.
    const ids = [
      ...(await submit(Array(4).fill(sleep(800)))),
      ...(await submit(Array(4).fill(stamp(0.8)))),
    ];
    const tasks = await sampleUntilFinal(ids, 20_000);
    for (const t of tasks) assert.equal(t.status, 'completed', JSON.stringify(t));
    assertNeverOverSlots(tasks);
    await assertSseNeverOverSlots(tasks);
  });

  test('sleep, shell and http queues share the 4 slots; startedAt is when the code began', async () => {
    const run = `mix-${Date.now()}`;
    const ids = await submit(
      Array.from({ length: 4 }, () => [sleep(800), stamp(0.8), hold(run, 800)]).flat(),
    );
    const tasks = await sampleUntilFinal(ids, 30_000);
    for (const t of tasks) assert.equal(t.status, 'completed', JSON.stringify(t));
    assertNeverOverSlots(tasks);
    await assertSseNeverOverSlots(tasks);
    for (const t of tasks.filter((x) => x.workflow === 'shell')) {
      const { lines } = await api<TaskLogs>(`/api/tasks/${t.id}/logs`);
      const began = Number(lines.find((l) => /^\d{13}$/.test(l.text))?.text);
      const delay = began - ms(t.startedAt);
      assert.ok(
        delay >= -5 && delay < 500,
        `${t.id}: its command began ${delay} ms after startedAt`,
      );
    }
  });

  test('a task waiting for a slot is cancelled at once and never runs', async () => {
    const holders = await submit(Array(SLOTS).fill(sleep(1500)));
    let tasks: Task[] = [];
    const full = await waitUntil(async () => {
      tasks = await read(holders);
      return tasks.every((t) => t.status === 'running');
    }, 10_000);
    assert.ok(full, `the sleep tasks hold the 4 slots: ${JSON.stringify(tasks)}`);
    const [waiting] = await submit([stamp(0)]);
    await new Promise((r) => setTimeout(r, 300));
    const queued = await api<Task>(`/api/tasks/${waiting as string}`);
    assert.equal(queued.status, 'queued', 'the shell task waits for a slot');
    assert.equal(queued.startedAt, undefined);
    const asked = Date.now();
    const cancelled = await api<Task>(`/api/tasks/${waiting as string}/cancel`, {
      method: 'POST',
    });
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(Date.now() - asked < 500, 'cancelled without waiting for a slot');
    const others = await Promise.all(holders.map((id) => stack.waitForTask(id)));
    for (const t of others) assert.equal(t.status, 'completed');
    const after = await api<Task>(`/api/tasks/${waiting as string}`);
    assert.equal(after.status, 'cancelled');
    assert.equal(after.startedAt, undefined, 'it never started');
    const { lines } = await api<TaskLogs>(`/api/tasks/${waiting as string}/logs`);
    assert.deepEqual(lines, [], 'its command never ran');
  });
});
