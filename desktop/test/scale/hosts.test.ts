// Three "hosts" in network namespaces on one Redis (docs/scale-out.md "Roles"): A runs Redis
// and an `api`, B runs `worker` processes, C a second `api`. Tasks created on C run on B and
// are seen live on A; B's workers killed with SIGKILL mid-load lose nothing and complete
// nothing twice once the supervisor on B has started new ones.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ServiceList, Stats, Task, TaskEvent } from '@taskdock/shared/contract';
import { readSse, type SseMessage } from '@taskdock/shared/node/sse-reader';
import { redisPing } from '../../src/supervisor/redis-client.ts';
import { killPids, removeDir, tempDir, waitFor } from '../helpers/process.ts';
import { api, HEADLESS_ENTRY, REPO_ROOT, TEST_ENV } from '../helpers/stack.ts';
import { createNetwork, type NetnsHost, netnsUnavailable, spawnIn } from './netns.ts';

const TASKS = 200;
const TASK_MS = 150;
const API_PORT = 7070;
const REDIS_PORT = 6390;

const unavailable = await netnsUnavailable();

interface HostProcess {
  readonly child: ChildProcess;
  output(): string;
}

const processes: HostProcess[] = [];
const dirs: string[] = [];
let removeNetwork: (() => Promise<void>) | undefined;

/** Even when the test fails half-way: processes by pid, then the network, then the dirs. */
after(async () => {
  await Promise.all(
    processes.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([
        new Promise((r) => child.once('exit', r)),
        new Promise((r) => setTimeout(r, 20_000)),
      ]);
    }),
  );
  await killPids(processes.map(({ child }) => child.pid));
  await removeNetwork?.();
  for (const dir of dirs) await removeDir(dir);
});

function start(host: NetnsHost, command: string, args: string[], env: Record<string, string>) {
  const child = spawnIn(host, command, args, { env, cwd: REPO_ROOT });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const started = { child, output: () => output };
  processes.push(started);
  return started;
}

/** `npm run serve` on a host, with the env a user would give it there. */
async function serve(host: NetnsHost, env: Record<string, string>): Promise<HostProcess> {
  const dataDir = await tempDir();
  dirs.push(dataDir);
  return start(host, process.execPath, ['--import', 'tsx', HEADLESS_ENTRY], {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...TEST_ENV,
    ...env,
    TASKDOCK_DATA_DIR: dataDir,
  });
}

const apiHostEnv = (host: NetnsHost, token: string) => ({
  TASKDOCK_ROLE: 'api',
  TASKDOCK_HOST: '0.0.0.0',
  TASKDOCK_PORT: String(API_PORT),
  TASKDOCK_ALLOW_PLAINTEXT: '1',
  TASKDOCK_ALLOWED_HOSTS: host.address,
  TASKDOCK_TOKEN: token,
});

const ready = (host: HostProcess, text: string) =>
  waitFor(
    `"${text}"`,
    () => {
      if (host.child.exitCode !== null) throw new Error(`exited early:\n${host.output()}`);
      return host.output().includes(text);
    },
    90_000,
    100,
  );

interface EventFeed {
  readonly events: SseMessage[];
  /** Resolves once `until` holds for the events so far. */
  waitFor(until: (events: readonly SseMessage[]) => boolean, timeoutMs: number): Promise<void>;
  close(): void;
}

/** `GET /api/events` of one api host, every message kept as it arrives. */
async function followEvents(url: string, headers: Record<string, string>): Promise<EventFeed> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  assert.equal(response.status, 200, `${url}: ${response.status}`);
  const events: SseMessage[] = [];
  void (async () => {
    for await (const message of readSse(response.body as AsyncIterable<Uint8Array>)) {
      events.push(message);
    }
  })().catch(() => {});
  return {
    events,
    waitFor: (until, timeoutMs) =>
      waitFor(`events from ${url}`, () => until(events), timeoutMs, 20).then(() => {}),
    close: () => controller.abort(),
  };
}

const completedIds = (events: readonly SseMessage[]) =>
  events
    .filter((e) => e.event === 'completed')
    .map((e) => (JSON.parse(e.data) as TaskEvent).taskId);

test('three hosts on one Redis: created on C, run on B, seen live on A; B killed mid-load loses nothing', {
  skip: unavailable ? `skipped: ${unavailable}` : false,
  timeout: 240_000,
}, async () => {
  const network = await createNetwork(['a', 'b', 'c']);
  removeNetwork = network.remove;
  const [a, b, c] = network.hosts as [NetnsHost, NetnsHost, NetnsHost];

  // Host A: a redis-server on its network address; the password is in a 0600 file, not argv.
  const redisDir = await tempDir();
  dirs.push(redisDir);
  const password = randomBytes(16).toString('hex');
  const conf = path.join(redisDir, 'redis.conf');
  await writeFile(
    conf,
    [
      `bind ${a.address}`,
      `port ${REDIS_PORT}`,
      `requirepass ${password}`,
      `dir ${redisDir}`,
      'save ""',
      'appendonly no',
      'maxmemory-policy noeviction',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  start(a, process.env.TASKDOCK_REDIS_SERVER || 'redis-server', [conf], {
    PATH: process.env.PATH ?? '',
  });
  await waitFor('redis on host A', () =>
    redisPing({ host: a.address, port: REDIS_PORT, password }).then(() => true),
  );
  const redisUrl = `redis://:${password}@${a.address}:${REDIS_PORT}`;

  const tokenA = randomBytes(18).toString('hex');
  const tokenC = randomBytes(18).toString('hex');
  const hostA = await serve(a, { ...apiHostEnv(a, tokenA), TASKDOCK_REDIS_URL: redisUrl });
  const hostC = await serve(c, { ...apiHostEnv(c, tokenC), TASKDOCK_REDIS_URL: redisUrl });
  const hostB = await serve(b, {
    TASKDOCK_ROLE: 'worker',
    TASKDOCK_WORKER_PROCESSES: '2',
    TASKDOCK_CONCURRENCY: '4',
    TASKDOCK_REDIS_URL: redisUrl,
  });
  await Promise.all([
    ready(hostA, 'Taskdock is ready'),
    ready(hostC, 'Taskdock is ready'),
    ready(hostB, 'Taskdock workers are ready'),
  ]);
  assert.doesNotMatch(hostB.output(), /Sign in/, 'a worker host prints no sign-in link');
  assert.doesNotMatch(
    hostB.output() + hostA.output(),
    new RegExp(password),
    'no password in output',
  );
  const workerPids = (/Workers\s+2 \(pids (\d+), (\d+)\)/.exec(hostB.output()) ?? [])
    .slice(1)
    .map(Number);
  assert.equal(workerPids.length, 2, `two worker pids on B:\n${hostB.output()}`);

  const onA = { apiUrl: `http://${a.address}:${API_PORT}`, token: tokenA };
  const onC = { apiUrl: `http://${c.address}:${API_PORT}`, token: tokenC };
  const services = await api<ServiceList>(onA, '/api/services');
  assert.deepEqual(
    services.body.services.map((s) => [s.name, s.status]),
    [
      ['redis', 'external'],
      ['worker', 'external'],
      ['backend', 'running'],
    ],
    'host A shows what runs on it',
  );
  // Each api host has its own token: A's is no key to C.
  assert.equal((await api(onC, '/api/stats')).status, 200);
  assert.equal((await api({ ...onC, token: tokenA }, '/api/stats')).status, 401);

  const sseA = await followEvents(`${onA.apiUrl}/api/events`, {
    authorization: `Bearer ${tokenA}`,
  });
  try {
    const ids: string[] = [];
    for (let i = 0; i < TASKS; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, TASKS - i) }, () =>
          api<Task>(onC, '/api/tasks', {
            method: 'POST',
            body: { workflow: 'sleep', params: { ms: TASK_MS } },
          }),
        ),
      );
      for (const created of batch) {
        assert.equal(created.status, 201);
        ids.push(created.body.id);
      }
    }

    // Mid-load: both worker processes of host B die at once, tasks in their hands.
    await sseA.waitFor((events) => completedIds(events).length >= 40, 60_000);
    assert.ok(completedIds(sseA.events).length < TASKS, 'the kill lands mid-load');
    await killPids(workerPids);
    await waitFor(
      'new workers on host B',
      () => (hostB.output().match(/worker \d\s+ready in/g) ?? []).length >= 4,
      30_000,
    );

    await sseA.waitFor((events) => new Set(completedIds(events)).size >= TASKS, 120_000);
    const seen = completedIds(sseA.events);
    assert.deepEqual(new Set(seen), new Set(ids), 'A saw every task created on C complete');
    assert.equal(seen.length, TASKS, 'each completion reached A once');

    let retried = 0;
    for (const id of ids) {
      const { body } = await api<Task>(onA, `/api/tasks/${encodeURIComponent(id)}`);
      assert.equal(body.status, 'completed', id);
      const outcomes = (body.attemptHistory ?? []).map((at) => at.outcome);
      assert.equal(outcomes.filter((o) => o === 'completed').length, 1, `${id}: ${outcomes}`);
      if (outcomes.length > 1) retried++;
    }
    assert.ok(retried > 0, 'some tasks were in flight when their worker was killed');

    // Totals are the same on both api hosts: they live in Redis.
    for (const host of [onA, onC]) {
      const { body } = await api<Stats>(host, '/api/stats');
      assert.equal(body.totals.completed, TASKS, host.apiUrl);
    }

    // SSE resume on the other api host: C replays from an id A's stream gave.
    const mid = sseA.events[Math.floor(sseA.events.length / 2)];
    assert.ok(mid);
    const after = sseA.events.slice(sseA.events.indexOf(mid) + 1).map((e) => e.id);
    const sseC = await followEvents(`${onC.apiUrl}/api/events`, {
      authorization: `Bearer ${tokenC}`,
      'last-event-id': mid.id,
    });
    try {
      await sseC.waitFor((events) => events.length >= after.length, 30_000);
      assert.deepEqual(
        sseC.events.slice(0, after.length).map((e) => e.id),
        after,
        'C resumes right after the id A sent',
      );
    } finally {
      sseC.close();
    }
  } finally {
    sseA.close();
  }
});
