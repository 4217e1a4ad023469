import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { CreateTask, Stats, Task, TaskEvent, TaskList } from '@taskdock/shared/contract';
import parsePrometheus from 'parse-prometheus-text-format';
import type { StreamEvent } from '../../src/engine/task-engine.ts';
import { connectSse } from '../helpers/sse-client.ts';
import { startStack, TEST_TOKEN, type TestStack } from '../helpers/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const auth = { authorization: `Bearer ${TEST_TOKEN}` };

describe('events over SSE', () => {
  let stack: TestStack;
  let base: string;
  before(async () => {
    stack = await startStack();
    await stack.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  });
  after(() => stack.close());

  const create = async (input: CreateTask) => (await stack.engine.create(input)).task;
  const ofTask = (id: string) => (events: { data: string }[]) =>
    events.map((e) => JSON.parse(e.data) as TaskEvent).filter((e) => e.taskId === id);

  test("a client sees a task's events in order, each with an id", async () => {
    const sse = await connectSse(`${base}/api/events`, auth);
    try {
      const task = await create({ workflow: 'sleep', params: { ms: 40, steps: 2 } });
      const events = await sse.waitFor((all) =>
        ofTask(task.id)(all).some((e) => e.type === 'completed'),
      );
      const mine = ofTask(task.id)(events);
      assert.deepEqual(
        mine.map((e) => (e.type === 'progress' ? `progress ${e.progress?.percent}` : e.type)),
        ['created', 'running', 'progress 50', 'progress 100', 'completed'],
      );
      assert.equal(mine[0]?.status, 'queued');
      assert.equal(mine.at(-1)?.status, 'completed');
      // Each event's time is its ISO 8601 instant (the relay's Lua writes it), in order, now.
      const times = mine.map((e) => Date.parse(e.ts));
      for (const e of mine) assert.equal(new Date(e.ts).toISOString(), e.ts);
      assert.deepEqual(
        [...times].sort((a, b) => a - b),
        times,
      );
      assert.ok(Math.abs((times[0] as number) - Date.now()) < 10_000, mine[0]?.ts);
      const ids = events.map((e) => e.id);
      assert.deepEqual([...ids].sort(compareIds), ids, 'ids increase');
    } finally {
      sse.close();
    }
  });

  test('reconnecting with Last-Event-ID replays exactly what was missed', async () => {
    const first = await connectSse(`${base}/api/events`, auth);
    const seen = await create({ workflow: 'sleep', params: { ms: 0 } });
    const before = await first.waitFor((all) =>
      ofTask(seen.id)(all).some((e) => e.type === 'completed'),
    );
    const lastId = before.at(-1)?.id as string;
    first.close();

    const missedTask = await create({ workflow: 'sleep', params: { ms: 0 }, maxAttempts: 1 });
    const cancelledTask = await create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 60_000 });
    await stack.engine.cancel(cancelledTask.id);
    await stack.waitForTask(missedTask.id);

    const resumed = await connectSse(`${base}/api/events`, { ...auth, 'last-event-id': lastId });
    try {
      // Both ends: the relay may write the completion after the cancel (it came later).
      const events = await resumed.waitFor(
        (all) =>
          ofTask(cancelledTask.id)(all).some((e) => e.type === 'cancelled') &&
          ofTask(missedTask.id)(all).some((e) => e.type === 'completed'),
      );
      assert.ok(
        events.every((e) => compareIds(e.id, lastId) > 0),
        'nothing from before the id',
      );
      assert.deepEqual(ofTask(seen.id)(events), []);
      assert.deepEqual(
        ofTask(missedTask.id)(events).map((e) => e.type),
        ['created', 'running', 'completed'],
      );
      assert.deepEqual(
        ofTask(cancelledTask.id)(events).map((e) => e.type),
        ['created', 'cancelled'],
      );
      assert.equal(ofTask(cancelledTask.id)(events)[0]?.status, 'scheduled');
    } finally {
      resumed.close();
    }
  });

  test("the engine's feed: live events to subscribers, and replay resumes after an id", async () => {
    const { events } = stack.engine;
    const live: StreamEvent[] = [];
    const unsubscribe = events.subscribe((event) => live.push(event));
    const from = (await events.newestId()) ?? '0-0';
    const task = await create({ workflow: 'sleep', params: { ms: 0 } });
    await stack.waitForTask(task.id);
    for (
      let i = 0;
      i < 100 && !live.some((e) => e.taskId === task.id && e.type === 'completed');
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    unsubscribe();
    const mine = live.filter((e) => e.taskId === task.id);
    assert.deepEqual(
      mine.map((e) => e.type),
      ['created', 'running', 'completed'],
    );
    const replayed: StreamEvent[] = [];
    for await (const event of events.replay(from)) replayed.push(event);
    assert.deepEqual(
      replayed.filter((e) => e.taskId === task.id),
      mine,
      'replay gives the same events, ids and data',
    );
    const afterFirst: StreamEvent[] = [];
    for await (const event of events.replay((mine[0] as StreamEvent).id)) afterFirst.push(event);
    assert.deepEqual(
      afterFirst.filter((e) => e.taskId === task.id).map((e) => e.type),
      ['running', 'completed'],
      'nothing at or before the id',
    );
  });

  test("/api/tasks/:id/events sends only that task's events; bad ids are 400", async () => {
    const task = await create({ workflow: 'sleep', params: { ms: 30, steps: 3 } });
    const sse = await connectSse(`${base}/api/tasks/${task.id}/events?lastEventId=0-0`, auth);
    try {
      const events = await sse.waitFor((all) => all.some((e) => e.event === 'completed'));
      assert.ok(events.every((e) => JSON.parse(e.data).taskId === task.id));
      assert.equal(events[0]?.event, 'created');
    } finally {
      sse.close();
    }
    const bad = await fetch(`${base}/api/events`, {
      headers: { ...auth, 'last-event-id': 'yesterday' },
    });
    assert.equal(bad.status, 400);
    assert.equal((await fetch(`${base}/api/events`)).status, 401);
  });
});

function compareIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}

describe('stats and metrics', () => {
  let stack: TestStack;
  const workers: WorkerProcess[] = [];
  before(async () => {
    stack = await startStack({ worker: false });
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await stack.close();
  });
  const spawnWorker = () => {
    const worker = startWorkerProcess({
      TASKDOCK_REDIS_URL: stack.redis.url,
      TASKDOCK_DATA_DIR: os.tmpdir(),
      TASKDOCK_LOCK_DURATION_MS: '2000',
      TASKDOCK_CONCURRENCY: '8',
      TASKDOCK_WORKFLOWS: 'sleep',
    });
    workers.push(worker);
    return worker;
  };

  test('totals are exact after 2,000 tasks on two workers with a kill -9 in between', async () => {
    const [one, two] = [spawnWorker(), spawnWorker()];
    await Promise.all([one?.ready, two?.ready]);
    // 1,700 succeed, 200 fail (every 10th), 100 are cancelled while scheduled.
    const specs = Array.from({ length: 2000 }, (_, i) =>
      i % 20 === 19
        ? { workflow: 'sleep', params: { ms: 0 }, delayMs: 600_000 }
        : { workflow: 'sleep', params: i % 10 === 0 ? { ms: 2, failAt: 1 } : { ms: 2 } },
    );
    const ids: string[] = [];
    for (let i = 0; i < specs.length; i += 1000) {
      const items = await stack.engine.createMany(specs.slice(i, i + 1000));
      ids.push(...items.map((item) => item.task.id));
    }
    await new Promise((r) => setTimeout(r, 300));
    await one?.kill();
    const three = spawnWorker();
    await three.ready;
    for (const [i, id] of ids.entries()) {
      if (i % 20 === 19) await stack.engine.cancel(id);
    }
    for (const id of ids) await stack.waitForTask(id, undefined, 60_000);

    let stats: Stats | undefined;
    for (let i = 0; i < 100; i++) {
      stats = await stack.engine.stats();
      if (stats.totals.completed + stats.totals.failed + stats.totals.cancelled === 2000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(stats?.totals, {
      created: 2000,
      completed: 1700,
      failed: 200,
      cancelled: 100,
    });
    assert.deepEqual(stats?.byStatus, {
      queued: 0,
      scheduled: 0,
      running: 0,
      completed: 1700,
      failed: 200,
      cancelled: 100,
    });
    const sleep = stats?.workflows.find((w) => w.name === 'sleep');
    assert.deepEqual(sleep?.totals, stats?.totals);
    assert.ok((stats?.throughput.last1m ?? 0) > 0);
    let workers = stats?.workers.length;
    for (let i = 0; i < 100 && workers !== 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      workers = (await stack.engine.workers()).length;
    }
    assert.equal(workers, 2, 'the killed worker leaves the list once its heartbeat expires');
  });

  test('/metrics is valid Prometheus text with task counters, depth, durations and redis', async () => {
    const res = await stack.request({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/plain/);
    const families = parsePrometheus(res.body) as {
      name: string;
      type: string;
      metrics: { labels?: Record<string, string>; value?: string }[];
    }[];
    const family = (name: string) => families.find((f) => f.name === name);
    const completed = family('taskdock_tasks_total')?.metrics.find(
      (m) => m.labels?.workflow === 'sleep' && m.labels?.outcome === 'completed',
    );
    assert.equal(completed?.value, '1700');
    assert.equal(family('taskdock_tasks_total')?.type, 'COUNTER');
    assert.ok(family('taskdock_queue_depth'));
    assert.equal(family('taskdock_task_duration_seconds')?.type, 'HISTOGRAM');
    assert.equal(family('taskdock_redis_up')?.metrics[0]?.value, '1');
    assert.equal(family('taskdock_workers')?.metrics[0]?.value, '2');
    assert.ok(family('process_cpu_seconds_total'));
    try {
      execFileSync('promtool', ['check', 'metrics'], { input: res.body });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    assert.equal(
      (await stack.request({ method: 'GET', url: '/metrics', token: null })).statusCode,
      401,
    );
  });
});

describe('lists at scale', () => {
  test('paging 10,000 tasks while more arrive yields each exactly once', async () => {
    const stack = await startStack({ worker: false });
    try {
      const created = new Set<string>();
      const addBatch = async (n: number, owner: string) => {
        const tasks = Array.from({ length: n }, () => ({
          workflow: 'sleep',
          params: { ms: 0 },
          owner,
        }));
        const res = await stack.request({
          method: 'POST',
          url: '/api/tasks/bulk',
          payload: { tasks },
        });
        return res.json().items.map((i: { task: Task }) => i.task.id) as string[];
      };
      for (let i = 0; i < 10; i++) for (const id of await addBatch(1000, 'base')) created.add(id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let page = 0;
      do {
        const url: string = `/api/tasks?limit=250${cursor ? `&cursor=${cursor}` : ''}`;
        const list: TaskList = (await stack.request({ method: 'GET', url })).json<TaskList>();
        seen.push(...list.items.map((t) => t.id));
        cursor = list.nextCursor;
        if (page++ % 5 === 0) await addBatch(100, 'late');
      } while (cursor);
      assert.equal(new Set(seen).size, seen.length, 'no task repeats');
      const missing = [...created].filter((id) => !seen.includes(id));
      assert.equal(missing.length, 0, 'no task is skipped');

      const filtered = (
        await stack.request({ method: 'GET', url: '/api/tasks?owner=late&status=queued&limit=50' })
      ).json<TaskList>();
      assert.equal(filtered.items.length, 50);
      assert.ok(filtered.items.every((t) => t.owner === 'late' && t.status === 'queued'));
    } finally {
      await stack.close();
    }
  });
});
