import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Task, TaskEvent } from '@taskdock/shared/contract';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createQueue } from '../../backend/src/tasks/queues.ts';
import { SERVICE_NODE_FLAGS } from '../../desktop/src/paths.ts';
import { percentile, REPO_ROOT, round, startNode } from './processes.ts';
import type { BenchStore } from './redis.ts';

export interface Api {
  readonly base: string;
  readonly headers: Record<string, string>;
}

async function waitForCount(read: () => Promise<number>, target: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await read()) >= target) return;
    if (Date.now() > deadline) throw new Error(`only ${await read()} of ${target} done in time`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Plain BullMQ: N no-op jobs pre-loaded into a paused queue, then one worker process drains it. */
export async function rawBullmqJobsPerSec(redisUrl: string, n: number, concurrency: number) {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('noop', { connection, prefix: 'bench-raw' });
  await queue.obliterate({ force: true });
  await queue.pause();
  for (let i = 0; i < n; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, n - i) }, () => ({ name: 'noop', data: {} })),
    );
  }
  const worker = startNode(
    'scripts/bench/raw-worker.ts',
    [redisUrl, 'noop', String(concurrency)],
    {},
  );
  try {
    await worker.waitFor('ready');
    const started = performance.now();
    await queue.resume();
    await waitForCount(
      async () => (await queue.getJobCounts('completed')).completed ?? 0,
      n,
      300_000,
    );
    return n / ((performance.now() - started) / 1000);
  } finally {
    await worker.stop();
    await queue.obliterate({ force: true });
    await queue.close();
    await connection.quit();
  }
}

/** The same through Taskdock: `sleep` tasks with ms 0 created by the API, one worker process. */
/**
 * Taskdock: N no-op tasks created through the API into a paused queue, then `workers` worker
 * processes (each with `concurrency` slots) drain it; tasks/s from resume to the last completion.
 */
export async function taskdockJobsPerSec(
  api: Api,
  store: BenchStore,
  n: number,
  concurrency: number,
  workers = 1,
) {
  const connection = store.connect();
  // Taskdock's own queue factory: a plain `new Queue()` would reset the events stream length
  // BullMQ keeps for the queue to its default (10,000), and the relay could fall behind it.
  const queue = createQueue('sleep', connection);
  await queue.pause();
  const before = (await queue.getJobCounts('completed')).completed ?? 0;
  for (let i = 0; i < n; i += 1000) {
    const tasks = Array.from({ length: Math.min(1000, n - i) }, () => ({
      workflow: 'sleep',
      params: { ms: 0 },
    }));
    const res = await fetch(`${api.base}/api/tasks/bulk`, {
      method: 'POST',
      headers: api.headers,
      body: JSON.stringify({ tasks }),
    });
    if (res.status !== 201)
      throw new Error(`bulk create failed: ${res.status} ${await res.text()}`);
  }
  const workerProcesses = Array.from({ length: workers }, () =>
    startWorker(store.env, concurrency),
  );
  try {
    await Promise.all(workerProcesses.map((worker) => worker.waitFor('"worker ready"')));
    const started = performance.now();
    await queue.resume();
    await waitForCount(
      async () => (await queue.getJobCounts('completed')).completed ?? 0,
      before + n,
      300_000,
    );
    return n / ((performance.now() - started) / 1000);
  } finally {
    await Promise.all(workerProcesses.map((worker) => worker.stop()));
    await queue.close();
    await connection.quit();
  }
}

/** A worker process on `store` (its env: TASKDOCK_REDIS_URL, or a Cluster's variables). */
export function startWorker(redisEnv: Readonly<Record<string, string>>, concurrency: number) {
  return startNode(
    'backend/src/worker/main.ts',
    [],
    {
      ...redisEnv,
      TASKDOCK_DATA_DIR: os.tmpdir(),
      TASKDOCK_CONCURRENCY: String(concurrency),
    },
    SERVICE_NODE_FLAGS.worker,
  );
}

/** POST /api/tasks at a fixed rate. */
export async function apiCreate(api: Api, rate: number, seconds: number) {
  const result = await autocannon({
    url: `${api.base}/api/tasks`,
    method: 'POST',
    headers: api.headers,
    body: JSON.stringify({ workflow: 'sleep', params: { ms: 0 } }),
    connections: 10,
    overallRate: rate,
    duration: seconds,
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) throw new Error(`${failed} of the create requests failed`);
  return {
    apiCreateP50Ms: result.latency.p50,
    apiCreateP99Ms: result.latency.p99,
    apiCreateRps: round(result.requests.average, 0),
  };
}

/** Submit one task at a time and wait for its `completed` event: idle-system latency. */
export async function e2eLatency(api: Api, samples: number) {
  const controller = new AbortController();
  const response = await fetch(`${api.base}/api/events`, {
    headers: api.headers,
    signal: controller.signal,
  });
  const waiting = new Map<string, () => void>();
  const reader = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .find((l) => l.startsWith('data: '));
          buffer = buffer.slice(end + 2);
          if (!data) continue;
          const event = JSON.parse(data.slice(6)) as TaskEvent;
          if (event.type === 'completed') waiting.get(event.taskId)?.();
        }
      }
    } catch {
      // Aborted at the end.
    }
  })();
  const latencies: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      const res = await fetch(`${api.base}/api/tasks`, {
        method: 'POST',
        headers: api.headers,
        body: JSON.stringify({ workflow: 'sleep', params: { ms: 0 } }),
      });
      const { id } = (await res.json()) as Task;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`task ${id} did not complete`)), 10_000);
        waiting.set(id, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      waiting.delete(id);
      latencies.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    controller.abort();
    await reader;
  }
  latencies.sort((a, b) => a - b);
  return {
    e2eLatencyP50Ms: round(percentile(latencies, 50)),
    e2eLatencyP99Ms: round(percentile(latencies, 99)),
  };
}

/** Fills the store to `total` tasks (queued: no worker runs), across two workflows and ten owners. */
export async function fillTasks(api: Api, total: number, have: number) {
  for (let i = have; i < total; i += 1000) {
    const tasks = Array.from({ length: Math.min(1000, total - i) }, (_, k) =>
      (i + k) % 2 === 0
        ? { workflow: 'sleep', params: { ms: 0 }, owner: `owner-${(i + k) % 10}` }
        : {
            workflow: 'http',
            params: { url: 'http://127.0.0.1:9/' },
            owner: `owner-${(i + k) % 10}`,
          },
    );
    const res = await fetch(`${api.base}/api/tasks/bulk`, {
      method: 'POST',
      headers: api.headers,
      body: JSON.stringify({ tasks }),
    });
    if (res.status !== 201) throw new Error(`fill failed: ${res.status}`);
  }
}

export async function listLatency(api: Api, query: string, samples: number) {
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const res = await fetch(`${api.base}/api/tasks?${query}`, { headers: api.headers });
    const body = (await res.json()) as { items: unknown[] };
    latencies.push(performance.now() - started);
    if (body.items.length === 0) throw new Error(`empty page for ${query}`);
  }
  latencies.sort((a, b) => a - b);
  return { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) };
}

export async function pageCursor(api: Api, pages: number): Promise<string> {
  let cursor = '';
  for (let i = 0; i < pages; i++) {
    const res = await fetch(`${api.base}/api/tasks?limit=100${cursor ? `&cursor=${cursor}` : ''}`, {
      headers: api.headers,
    });
    cursor = ((await res.json()) as { nextCursor: string }).nextCursor;
  }
  return cursor;
}

const rssMb = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
};

/**
 * The supervisor from a fresh data dir, as the packaged app runs it: the esbuild bundles
 * (`npm run build`) under plain node. Time to runtime.json, then the idle memory of the
 * services it runs (three; the backend alone with TASKDOCK_STORE=memory in `env`).
 */
export async function coldStart(
  options: { env?: Record<string, string>; bundlesBuilt?: boolean } = {},
) {
  if (!options.bundlesBuilt) {
    const build = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    if (build.status !== 0) {
      throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    }
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-bench-start-'));
  const runtimeFile = path.join(dataDir, 'runtime.json');
  const started = performance.now();
  const serve = startNode(path.join(REPO_ROOT, 'dist/bundles/headless.mjs'), [], {
    ...options.env,
    TASKDOCK_DATA_DIR: dataDir,
  });
  try {
    const deadline = Date.now() + 60_000;
    while (!existsSync(runtimeFile)) {
      if (Date.now() > deadline) throw new Error(`no runtime.json:\n${serve.output()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const coldStartMs = Math.round(performance.now() - started);
    await new Promise((r) => setTimeout(r, 3000));
    const runtime = JSON.parse(readFileSync(runtimeFile, 'utf8')) as {
      pids: Record<string, number | null>;
    };
    const idleRssMb = round(
      Object.values(runtime.pids).reduce((sum: number, pid) => sum + (pid ? rssMb(pid) : 0), 0),
      1,
    );
    return { coldStartMs, idleRssMb };
  } finally {
    await serve.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Waits until the event relay has counted every created task (its backlog is empty). */
export async function relayCaughtUp(api: Api, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const stats = (await (
      await fetch(`${api.base}/api/stats`, { headers: api.headers })
    ).json()) as {
      totals: { created: number };
    };
    if (stats.totals.created === last) return;
    if (Date.now() > deadline) throw new Error('the event relay did not catch up');
    last = stats.totals.created;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Waits until nothing is queued or running (and the relay has seen it). */
export async function queueDrained(api: Api, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { byStatus } = (await (
      await fetch(`${api.base}/api/stats`, { headers: api.headers })
    ).json()) as {
      byStatus: Record<string, number>;
    };
    if ((byStatus.queued ?? 0) + (byStatus.running ?? 0) + (byStatus.scheduled ?? 0) === 0) return;
    if (Date.now() > deadline) throw new Error('the queue did not drain');
    await new Promise((r) => setTimeout(r, 500));
  }
}
