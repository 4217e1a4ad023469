import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { Task } from '@taskdock/shared/contract';
import { isAlive } from '@taskdock/shared/node/processes';
import { type ProbeServer, startProbeServer } from '../helpers/probe-server.ts';
import { waitUntil } from '../helpers/processes.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

describe('worker processes', () => {
  let stack: TestStack;
  let probe: ProbeServer;
  const workers: WorkerProcess[] = [];
  const strayPids: number[] = [];

  const spawnWorker = (env: Record<string, string> = {}) => {
    const worker = startWorkerProcess({
      TASKDOCK_REDIS_URL: stack.redis.url,
      TASKDOCK_DATA_DIR: os.tmpdir(),
      TASKDOCK_LOCK_DURATION_MS: '2000',
      TASKDOCK_SHUTDOWN_GRACE_MS: '5000',
      ...env,
    });
    workers.push(worker);
    return worker;
  };
  /** The numbers in the task's first log line that starts with `word` (pids its command echoed). */
  const pidsLogged = async (taskId: string, word: string): Promise<number[]> => {
    let pids: number[] = [];
    const seen = await waitUntil(async () => {
      const line = (await stack.engine.logs(taskId)).find((l) => l.text.startsWith(`${word} `));
      pids = (line?.text.match(/\d+/g) ?? []).map(Number);
      return pids.length > 0;
    }, 10_000);
    assert.ok(seen, `the task logged "${word} <pid>…"`);
    return pids;
  };
  /** Two workers with the same settings, both ready. */
  const spawnReadyPair = async (env: Record<string, string>) => {
    const pair = [spawnWorker(env), spawnWorker(env)] as const;
    await Promise.all(pair.map((w) => w.ready));
    return pair;
  };
  const create = async (payload: object) => {
    const res = await stack.request({ method: 'POST', url: '/api/tasks', payload });
    assert.equal(res.statusCode, 201, res.body);
    return res.json<Task>();
  };

  before(async () => {
    stack = await startStack({ worker: false });
    probe = await startProbeServer();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    for (const pid of strayPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await probe.close();
    await stack.close();
  });

  test('the per-owner limit holds across two workers under load', async () => {
    const pair = await spawnReadyPair({ TASKDOCK_MAX_PER_OWNER: '2', TASKDOCK_CONCURRENCY: '4' });
    const run = `${Date.now()}`;
    const payloads = [
      ...Array.from({ length: 24 }, (_, i) => ({ owner: 'alice', id: `a${i}` })),
      ...Array.from({ length: 8 }, (_, i) => ({ owner: 'bob', id: `b${i}` })),
    ].map(({ owner, id }) => ({
      workflow: 'http',
      owner,
      params: { url: `${probe.url}/hold?key=${owner}-${run}&id=${run}-${id}&ms=60` },
    }));
    const res = await stack.request({
      method: 'POST',
      url: '/api/tasks/bulk',
      payload: { tasks: payloads },
    });
    assert.equal(res.statusCode, 201);
    const ids: string[] = res.json().items.map((i: { task: Task }) => i.task.id);
    for (const id of ids)
      assert.equal((await stack.waitForTask(id, undefined, 30_000)).status, 'completed');
    assert.equal(probe.maxInFlight.get(`alice-${run}`), 2, 'alice never ran more than 2 at once');
    assert.ok((probe.maxInFlight.get(`bob-${run}`) ?? 0) <= 2);
    const slots = await stack.client.keys('taskdock:owner-slots:*');
    const held = await Promise.all(slots.map((k) => stack.client.zcard(k)));
    assert.equal(
      held.reduce((a, b) => a + b, 0),
      0,
      'no slot is left held',
    );
    await Promise.all(pair.map((w) => w.stop()));
  });

  test('TASKDOCK_WORKFLOWS routes: a worker runs only the workflows it serves', async () => {
    const sleeper = spawnWorker({ TASKDOCK_WORKFLOWS: 'sleep' });
    await sleeper.ready;
    const shellTask = await create({
      workflow: 'shell',
      params: { command: 'sh', args: ['-c', 'echo $PPID'] },
    });
    const sleepTask = await create({ workflow: 'sleep', params: { ms: 0 } });
    assert.equal((await stack.waitForTask(sleepTask.id)).status, 'completed');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      (await stack.engine.get(shellTask.id))?.status,
      'queued',
      'the sleep-only worker left it',
    );

    const sheller = spawnWorker({ TASKDOCK_WORKFLOWS: 'sh*,http' });
    await sheller.ready;
    const done = await stack.waitForTask(shellTask.id);
    assert.equal(done.status, 'completed');
    assert.equal((done.result as { stdoutTail: string }).stdoutTail, String(sheller.pid));
    await Promise.all([sleeper.stop(), sheller.stop()]);
  });

  test('kill -9 of a worker mid-task: the other worker completes it exactly once', async () => {
    const pair = await spawnReadyPair({ TASKDOCK_WORKFLOWS: 'shell' });
    const task = await create({
      workflow: 'shell',
      params: {
        command: 'sh',
        args: ['-c', 'echo "holder $PPID shell $$"; sleep 1; echo finished by $PPID'],
      },
    });
    const [holder, shellPid] = await pidsLogged(task.id, 'holder');
    strayPids.push(shellPid as number);
    const victim = pair.find((w) => w.pid === holder);
    const survivor = pair.find((w) => w.pid !== holder);
    assert.ok(victim && survivor, 'one of the two workers holds the task');
    await victim.kill();

    const done = await stack.waitForTask(task.id, undefined, 20_000);
    assert.equal(done.status, 'completed');
    assert.match(
      (done.result as { stdoutTail: string }).stdoutTail,
      new RegExp(`finished by ${survivor.pid}$`),
    );
    const jobId = task.id.slice('shell:'.length);
    const events = await stack.client.xrange('taskdock:shell:events', '-', '+');
    const completions = events.filter(([, fields]) => {
      const record = Object.fromEntries(
        fields.flatMap((_, i) => (i % 2 ? [] : [[fields[i], fields[i + 1]]])),
      );
      return record.event === 'completed' && record.jobId === jobId;
    });
    assert.equal(completions.length, 1, 'completed exactly once');
    await survivor.stop();
  });

  test('cancel reaches the worker process that runs the task', async () => {
    const pair = await spawnReadyPair({ TASKDOCK_WORKFLOWS: 'shell' });
    const task = await create({
      workflow: 'shell',
      params: { command: 'sh', args: ['-c', 'echo "shell $$"; sleep 30'] },
    });
    const [shellPid = 0] = await pidsLogged(task.id, 'shell');
    strayPids.push(shellPid);
    const started = Date.now();
    const res = await stack.request({ method: 'POST', url: `/api/tasks/${task.id}/cancel` });
    assert.equal(res.json<Task>().status, 'cancelled');
    assert.ok(Date.now() - started < 3000, 'cancelled within moments');
    assert.ok(await waitUntil(() => !isAlive(shellPid), 3000), "the task's process is gone");
    await Promise.all(pair.map((w) => w.stop()));
  });

  test('SIGTERM lets a short task finish, and returns a long one to the queue for another worker', async () => {
    const first = spawnWorker({
      TASKDOCK_WORKFLOWS: 'sleep',
      TASKDOCK_SHUTDOWN_GRACE_MS: '700',
      TASKDOCK_CONCURRENCY: '2',
    });
    await first.ready;
    const short = await create({ workflow: 'sleep', params: { ms: 300 } });
    const long = await create({ workflow: 'sleep', params: { ms: 4000 } });
    await Promise.all(
      [short, long].map((t) => stack.waitForTask(t.id, (x) => x.status === 'running')),
    );
    const stopping = Date.now();
    assert.equal(await first.stop(), 0, 'exits cleanly');
    assert.ok(Date.now() - stopping < 3000, 'within the grace period');
    assert.equal((await stack.engine.get(short.id))?.status, 'completed');
    const requeued = await stack.engine.get(long.id);
    assert.equal(requeued?.status, 'queued', 'not failed, not lost');

    const second = spawnWorker({ TASKDOCK_WORKFLOWS: 'sleep' });
    await second.ready;
    const done = await stack.waitForTask(long.id, undefined, 15_000);
    assert.equal(done.status, 'completed');
    await second.stop();
  });
});
