import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { CapacityError } from '../../src/engine/errors.ts';
import type { StreamEvent } from '../../src/engine/task-engine.ts';
import { registerErrorHandling } from '../../src/plugins/errors.ts';
import { waitUntil } from '../helpers/processes.ts';
import { waitForTask } from '../helpers/wait-for-task.ts';
import { engineContract } from './contract-suite.ts';
import { startMemoryEngine } from './memory-engine.ts';

engineContract('memory', (settings) => startMemoryEngine(settings));

describe('memory engine only', () => {
  test('the cap on finished tasks evicts the oldest finished ones, never a queued or running one', async () => {
    const { engine, close } = await startMemoryEngine({}, { maxTasks: 3 });
    try {
      const running = (await engine.create({ workflow: 'sleep', params: { ms: 3000 } })).task;
      const scheduled = (
        await engine.create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 60_000 })
      ).task;
      await waitForTask(engine, running.id, (t) => t.status === 'running');
      const removed: StreamEvent[] = [];
      const unsubscribe = engine.events.subscribe((e) => e.type === 'removed' && removed.push(e));
      const finished: string[] = [];
      for (let i = 0; i < 5; i++) {
        const task = (await engine.create({ workflow: 'sleep', params: { ms: 0 } })).task;
        await waitForTask(engine, task.id);
        finished.push(task.id);
      }
      unsubscribe();
      const kept = await Promise.all(finished.map((id) => engine.get(id)));
      assert.deepEqual(
        kept.map((t) => t?.status ?? 'gone'),
        ['gone', 'gone', 'completed', 'completed', 'completed'],
      );
      assert.deepEqual(
        removed.map((e) => e.taskId),
        finished.slice(0, 2),
        'a removed event for each evicted task',
      );
      assert.equal((await engine.get(running.id))?.status, 'running');
      assert.equal((await engine.get(scheduled.id))?.status, 'scheduled');
      const stats = await engine.stats();
      assert.equal(stats.byStatus.completed, 3);
      assert.equal(stats.totals.completed, 5, 'totals count every task since start');
    } finally {
      await close();
    }
  });

  test('finished tasks past the retention period are removed; unfinished ones stay', async () => {
    const { engine, close } = await startMemoryEngine(
      {},
      { retentionDays: 1 / 86_400, retentionSweepMs: 100 },
    );
    try {
      const done = (await engine.create({ workflow: 'sleep', params: { ms: 0 } })).task;
      const waiting = (
        await engine.create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 60_000 })
      ).task;
      assert.equal((await waitForTask(engine, done.id)).status, 'completed');
      await waitUntil(async () => (await engine.get(done.id)) === null, 3000);
      assert.equal(await engine.get(done.id), null, 'removed a second after it finished');
      assert.equal((await engine.get(waiting.id))?.status, 'scheduled');
    } finally {
      await close();
    }
  });

  test('logs keep the newest TASKDOCK_MAX_LOG_LINES lines, each cut at TASKDOCK_MAX_LOG_LINE_BYTES', async () => {
    const { engine, close } = await startMemoryEngine(
      {},
      { limits: { maxLogLines: 10, maxLogLineBytes: 256 } },
    );
    try {
      const script =
        'i=1; while [ $i -le 50 ]; do echo "line $i"; i=$((i+1)); done; printf "%0600d\\n" 7';
      const task = (
        await engine.create({ workflow: 'shell', params: { command: 'sh', args: ['-c', script] } })
      ).task;
      assert.equal((await waitForTask(engine, task.id)).status, 'completed');
      const lines = await engine.logs(task.id, 1000);
      assert.equal(lines.length, 10);
      // The 600-byte line comes in three pieces of at most 256 bytes: the newest 10 lines are
      // lines 44 to 50 and those pieces.
      assert.deepEqual(
        lines.slice(0, 7).map((l) => l.text),
        [44, 45, 46, 47, 48, 49, 50].map((n) => `line ${n}`),
      );
      const pieces = lines.slice(7).map((l) => l.text);
      assert.ok(pieces.every((p) => p.startsWith('000')));
      assert.ok(pieces.at(-1)?.endsWith('7'));
      for (const line of lines) assert.ok(Buffer.byteLength(line.text) <= 256);
    } finally {
      await close();
    }
  });

  test('past the cap on unfinished tasks, create is refused with a 503 that says why', async () => {
    const { engine, close } = await startMemoryEngine({}, { maxUnfinished: 3 });
    const app = Fastify();
    registerErrorHandling(app);
    app.post('/tasks', async () =>
      engine.create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 60_000 }),
    );
    try {
      const waiting = await Promise.all(
        [1, 2, 3].map(() =>
          engine.create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 60_000 }),
        ),
      );
      await assert.rejects(
        engine.create({ workflow: 'sleep', params: { ms: 0 } }),
        (err) => err instanceof CapacityError && /at most 3 unfinished tasks/.test(err.message),
      );
      await assert.rejects(
        engine.createMany([{ workflow: 'sleep', params: { ms: 0 } }]),
        CapacityError,
      );
      const refused = await app.inject({ method: 'POST', url: '/tasks' });
      assert.equal(refused.statusCode, 503);
      const body = refused.json() as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'CAPACITY_EXCEEDED');
      assert.match(body.error.message, /Memory mode holds at most 3 unfinished tasks/);
      assert.match(body.error.message, /Redis/);

      await engine.cancel(waiting[0]?.task.id as string);
      assert.equal((await app.inject({ method: 'POST', url: '/tasks' })).statusCode, 200);
    } finally {
      await app.close();
      await close();
    }
  });

  test('50 busy shell tasks do not stall the engine: get answers fast while they run', async () => {
    const { engine, close } = await startMemoryEngine({ concurrency: 50 });
    try {
      // Half print lines and progress as fast as they can for a while, half sleep.
      const noisy =
        'i=0; while [ $i -lt 3000 ]; do echo "line $i of some output"; i=$((i+1)); ' +
        '[ $((i % 300)) -eq 0 ] && echo "::progress $((i / 30))"; done; sleep 1';
      const tasks = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          engine.create(
            i % 2 === 0
              ? { workflow: 'shell', params: { command: 'sh', args: ['-c', noisy] } }
              : { workflow: 'shell', params: { command: 'sleep', args: ['2'] } },
          ),
        ),
      );
      const probe = tasks[0]?.task.id as string;
      await waitForTask(engine, probe, (t) => t.status === 'running');
      const latencies: number[] = [];
      let running = 50;
      const until = Date.now() + 10_000;
      while (running > 0 && Date.now() < until) {
        const started = performance.now();
        await engine.get(probe);
        latencies.push(performance.now() - started);
        running = (await engine.stats()).byStatus.running;
        await new Promise((r) => setTimeout(r, 2));
      }
      for (const t of tasks)
        assert.equal((await waitForTask(engine, t.task.id)).status, 'completed');
      latencies.sort((a, b) => a - b);
      const at = (q: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
      const p50 = at(0.5);
      const p99 = at(0.99);
      const max = latencies.at(-1) ?? 0;
      console.log(
        `engine.get while 50 shell tasks ran: ${latencies.length} samples, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${max.toFixed(2)} ms`,
      );
      assert.ok(latencies.length > 50, 'sampled while the tasks ran');
      assert.ok(p99 < 50, `p99 ${p99.toFixed(2)} ms`);
    } finally {
      await close();
    }
  });
});
