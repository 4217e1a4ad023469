import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { BulkCreateResult, ErrorBody, Task } from '@taskdock/shared/contract';
import { type BackendProcess, startBackendProcess } from '../helpers/backend-process.ts';
import { waitUntil } from '../helpers/processes.ts';
import {
  DOWN_AFTER_MS,
  FAILOVER_TIMEOUT_MS,
  sentinelBinary,
  startSentinels,
  type TestSentinels,
} from '../helpers/sentinel.ts';
import { connectSse, type SseClient } from '../helpers/sse-client.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const TOKEN = 'sentinel-test-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const TASKS = 500;
/** Each task appends its mark to this file, then sleeps: a line per run, counted at the end. */
const TASK_SCRIPT = 'echo "$1" >> "$2"; sleep 1.5';
/**
 * The workers' lock: long against a failover (a running task keeps its lock across it), short
 * enough that a claim whose reply the kill cut off is re-queued within the test (lock + stalled
 * check).
 */
const LOCK_MS = 15_000;
/** Sentinel notices in DOWN_AFTER_MS, agrees and promotes in about a second more. */
const RECOVERY_BOUND_MS = DOWN_AFTER_MS + FAILOVER_TIMEOUT_MS + 5000;

const binary = sentinelBinary();
// Locally a missing redis-sentinel skips, saying how to get it; in CI (.ci/run installs it) it fails.
const skip =
  binary === undefined && !process.env.CI
    ? 'redis-sentinel is not installed (Debian: apt-get install redis-sentinel); .ci/run installs it'
    : false;

test('Sentinel: the primary SIGKILLed under 500 tasks in flight; the stack recovers, each task completes once, every acknowledged create survives', {
  skip,
  timeout: 240_000,
}, async () => {
  assert.ok(binary, 'redis-sentinel is required in CI: .ci/run installs it');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-sentinel-'));
  const marks = path.join(dataDir, 'runs.txt');
  let sentinels: TestSentinels | undefined;
  const workers: WorkerProcess[] = [];
  let backend: BackendProcess | undefined;
  let sse: SseClient | undefined;
  try {
    sentinels = await startSentinels(binary);
    const oldPort = sentinels.primary.port;
    const env = {
      ...sentinels.env,
      TASKDOCK_DATA_DIR: dataDir,
      TASKDOCK_TOKEN: TOKEN,
      TASKDOCK_REDIS_MIN_REPLICAS: '1',
      TASKDOCK_REDIS_MIN_REPLICAS_WAIT_MS: '500',
    };
    for (let i = 0; i < 2; i++) {
      workers.push(
        startWorkerProcess({
          ...env,
          TASKDOCK_WORKFLOWS: 'shell,sleep',
          TASKDOCK_CONCURRENCY: '25',
          TASKDOCK_LOCK_DURATION_MS: String(LOCK_MS),
        }),
      );
    }
    backend = startBackendProcess(env);
    const api = await backend.listening;
    await Promise.all(workers.map((w) => w.ready));
    sse = await connectSse(`${api}/api/events`, AUTH);

    // 500 tasks, created with MIN_REPLICAS=1 while the replica is there: 201 means on both.
    const bulk = await fetch(`${api}/api/tasks/bulk`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({
        tasks: Array.from({ length: TASKS }, (_, i) => ({
          workflow: 'shell',
          params: { command: 'sh', args: ['-c', TASK_SCRIPT, 'sh', `mark-${i}`, marks] },
        })),
      }),
    });
    assert.equal(bulk.status, 201, await bulk.clone().text());
    const ids = ((await bulk.json()) as BulkCreateResult).items.map((item) => item.task.id);
    assert.equal(new Set(ids).size, TASKS);

    // Creates keep coming across the failover; each 201 (or 200: an earlier 201) is counted.
    const acknowledged = new Set<string>();
    const refused: string[] = [];
    let creating = true;
    const creator = (async () => {
      for (let i = 0; creating && i < 400; i++) {
        try {
          const res = await fetch(`${api}/api/tasks`, {
            method: 'POST',
            headers: { ...AUTH, 'content-type': 'application/json' },
            body: JSON.stringify({
              workflow: 'sleep',
              params: { ms: 10 },
              idempotencyKey: `ack-${i}`,
            }),
            signal: AbortSignal.timeout(15_000),
          });
          if (res.status === 201 || res.status === 200)
            acknowledged.add(((await res.json()) as Task).id);
          else refused.push(`${res.status} ${((await res.json()) as ErrorBody).error.code}`);
        } catch (err) {
          refused.push((err as Error).message);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    // Kill the primary once tasks are running.
    const sseBefore = sse.events.length;
    await sse.waitFor((all) => all.slice(sseBefore).some((e) => e.event === 'running'), 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    const acknowledgedBeforeKill = acknowledged.size;
    const killedAt = Date.now();
    process.kill(sentinels.primary.pid, 'SIGKILL');
    const promoted = await waitUntil(
      async () => (await sentinels?.masterPort().catch(() => oldPort)) !== oldPort,
      RECOVERY_BOUND_MS,
    );
    assert.ok(promoted, `Sentinel promoted no replica within ${RECOVERY_BOUND_MS} ms`);
    const promotedMs = Date.now() - killedAt;
    assert.equal(await sentinels.masterPort(), sentinels.replica.port);
    // Recovered: the SSE client (on a backend that never restarted) sees a task finish after it.
    const seenAtPromotion = sse.events.length;
    await sse
      .waitFor(
        (all) => all.slice(seenAtPromotion).some((e) => e.event === 'completed'),
        RECOVERY_BOUND_MS,
      )
      .catch((err: Error) => {
        const tail = (text: string) => text.split('\n').slice(-15).join('\n');
        const outputs = [backend, ...workers].map((p) => tail(p?.output() ?? ''));
        throw new Error(
          `no task completed after the promotion: ${err.message.slice(0, 200)}\n${outputs.join('\n---\n')}`,
        );
      });
    const recoveredMs = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, 2000));
    creating = false;
    await creator;

    // Every task, the 500 and each acknowledged create, ends completed, run exactly once.
    const all = [...ids, ...acknowledged];
    const deadline = Date.now() + 120_000;
    const finished = new Map<string, Task>();
    while (finished.size < all.length && Date.now() < deadline) {
      for (const id of all) {
        if (finished.has(id)) continue;
        const res = await fetch(`${api}/api/tasks/${encodeURIComponent(id)}`, { headers: AUTH });
        if (res.status === 404)
          assert.fail(`task ${id} was acknowledged but is gone after the failover`);
        const task = (await res.json()) as Task;
        if (['completed', 'failed', 'cancelled'].includes(task.status)) finished.set(id, task);
      }
      if (finished.size < all.length) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(
      finished.size,
      all.length,
      `${all.length - finished.size} tasks did not finish in time`,
    );
    // Completed once by the attempt records; run once by the marks the commands left. A claim
    // cut off by the kill (the worker never got the job) shows as a `stalled` attempt that ran
    // nothing, and the task is run by the next one.
    const twice: string[] = [];
    let stalledClaims = 0;
    for (const task of finished.values()) {
      assert.equal(task.status, 'completed', `${task.id}: ${JSON.stringify(task.error)}`);
      const history = task.attemptHistory ?? [];
      stalledClaims += history.filter((a) => a.outcome === 'stalled').length;
      if (history.filter((a) => a.outcome === 'completed').length !== 1)
        twice.push(`${task.id}: ${JSON.stringify(history)}`);
    }
    assert.deepEqual(twice, [], 'tasks completed more than once');
    const runs = new Map<string, number>();
    for (const line of (await readFile(marks, 'utf8')).split('\n').filter(Boolean)) {
      runs.set(line, (runs.get(line) ?? 0) + 1);
    }
    assert.equal(runs.size, TASKS, 'every task ran');
    assert.deepEqual(
      [...runs].filter(([, n]) => n !== 1),
      [],
      'tasks whose command ran more than once',
    );
    // The SSE client saw the last tasks complete, long after the failover.
    const completedOnSse = new Set(
      sse.events
        .filter((e) => e.event === 'completed')
        .map((e) => (JSON.parse(e.data) as { taskId: string }).taskId),
    );
    const last = [...finished.values()]
      .sort((a, b) => Date.parse(b.finishedAt ?? '') - Date.parse(a.finishedAt ?? ''))
      .slice(0, 100);
    assert.deepEqual(
      last.filter((t) => !completedOnSse.has(t.id)).map((t) => t.id),
      [],
    );
    for (const worker of workers)
      assert.ok(alive(worker.pid), `a worker exited:\n${worker.output()}`);
    assert.ok(acknowledgedBeforeKill > 0, 'no create was acknowledged before the kill');
    // Refused creates say why in the error shape: the replica is gone, so WAIT 1 cannot hold.
    assert.deepEqual([...new Set(refused)], refused.length ? ['503 REPLICATION_TIMEOUT'] : []);
    console.log(
      `sentinel failover: promoted in ${promotedMs} ms, tasks completing again ${recoveredMs} ms after the kill; ` +
        `${acknowledged.size} creates acknowledged (${acknowledgedBeforeKill} before the kill; all survived), ${refused.length} refused ` +
        `(${[...new Set(refused)].join(', ')}); ${stalledClaims} claims cut off by the kill, re-run after the lock`,
    );
  } finally {
    sse?.close();
    await backend?.stop();
    await Promise.all(workers.map((w) => w.stop(5000)));
    await sentinels?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

/** Our own child: Node reaps it, so signal 0 fails once it exited. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
