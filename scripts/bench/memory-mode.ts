// The memory-mode section of the bench: one backend process with TASKDOCK_STORE=memory, no
// Redis anywhere (README "Storage: Redis or memory").
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Stats } from '@taskdock/shared/contract';
import { freePort } from '@taskdock/shared/node/ports';
import { SERVICE_NODE_FLAGS } from '../../desktop/src/paths.ts';
import { type Api, apiCreate, coldStart } from './measures.ts';
import { startNode } from './processes.ts';

export interface MemoryModeResults {
  readonly memoryJobsPerSec: number;
  readonly memoryApiCreateP50Ms: number;
  readonly memoryApiCreateP99Ms: number;
  readonly memoryIdleRssMb: number;
  readonly memoryColdStartMs: number;
}

async function completed(api: Api): Promise<number> {
  const stats = (await (
    await fetch(`${api.base}/api/stats`, { headers: api.headers })
  ).json()) as Stats;
  return stats.totals.completed;
}

/** `n` no-op tasks queued on a paused queue, then resumed: the time until all completed. */
async function memoryJobsPerSec(api: Api, n: number): Promise<number> {
  const post = async (pathname: string, body?: unknown) => {
    const res = await fetch(`${api.base}${pathname}`, {
      method: 'POST',
      headers: api.headers,
      body: JSON.stringify(body ?? {}),
    });
    if (res.status >= 300) throw new Error(`${pathname}: ${res.status} ${await res.text()}`);
  };
  await post('/api/queues/sleep/pause');
  const before = await completed(api);
  for (let i = 0; i < n; i += 1000) {
    const tasks = Array.from({ length: Math.min(1000, n - i) }, () => ({
      workflow: 'sleep',
      params: { ms: 0 },
    }));
    await post('/api/tasks/bulk', { tasks });
  }
  const started = performance.now();
  await post('/api/queues/sleep/resume');
  const deadline = Date.now() + 300_000;
  while ((await completed(api)) < before + n) {
    if (Date.now() > deadline) throw new Error('memory mode did not finish the no-op tasks');
    await new Promise((r) => setTimeout(r, 20));
  }
  return n / ((performance.now() - started) / 1000);
}

export async function measureMemoryMode(plan: {
  jobs: number;
  rounds: number;
  rate: number;
  seconds: number;
  concurrency: number;
}): Promise<MemoryModeResults> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-bench-memory-'));
  const token = randomBytes(24).toString('base64url');
  const port = await freePort();
  const backend = startNode(
    'backend/src/server.ts',
    [],
    {
      TASKDOCK_STORE: 'memory',
      TASKDOCK_DATA_DIR: dataDir,
      TASKDOCK_TOKEN: token,
      TASKDOCK_PORT: String(port),
      TASKDOCK_CONCURRENCY: String(plan.concurrency),
      TASKDOCK_LOG_LEVEL: 'warn',
    },
    SERVICE_NODE_FLAGS.backend,
  );
  const api: Api = {
    base: `http://127.0.0.1:${port}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  };
  try {
    await backend.waitFor('storage_mode=memory');
    for (let i = 0; !(await fetch(`${api.base}/api/health`).catch(() => null))?.ok; i++) {
      if (i > 400) throw new Error(`memory backend did not start:\n${backend.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    let jobs = 0;
    for (let r = 0; r < plan.rounds; r++)
      jobs = Math.max(jobs, await memoryJobsPerSec(api, plan.jobs));
    const create = await apiCreate(api, plan.rate, plan.seconds);
    // The supervisor starts the backend alone: its idle RSS is the whole app's. The bench
    // built the bundles for its own cold start just before.
    const start = await coldStart({ env: { TASKDOCK_STORE: 'memory' }, bundlesBuilt: true });
    return {
      memoryJobsPerSec: Math.round(jobs),
      memoryApiCreateP50Ms: create.apiCreateP50Ms,
      memoryApiCreateP99Ms: create.apiCreateP99Ms,
      memoryIdleRssMb: start.idleRssMb,
      memoryColdStartMs: start.coldStartMs,
    };
  } finally {
    await backend.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
