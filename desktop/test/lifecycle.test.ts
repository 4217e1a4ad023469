import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { commandLine, descendants, isAlive } from '@taskdock/shared/node/processes';
import { trackResources, waitFor } from './helpers/process.ts';
import {
  api,
  type HeadlessProcess,
  readRuntime,
  startHeadless,
  testTaskdock,
} from './helpers/stack.ts';

// The whole life of `npm run serve` as a user (or the OS) treats it: SIGKILL, SIGTERM, and
// many starts and stops in a row. Real processes; each one is cleaned up by its pid.

const { pids, dataDir } = trackResources();

async function waitForRuntime(dir: string, headless: HeadlessProcess, previous?: number | null) {
  const runtime = await waitFor(
    'runtime.json',
    async () => {
      if (headless.child.exitCode !== null) {
        throw new Error(`headless exited early:\n${headless.output()}`);
      }
      const info = await readRuntime(dir);
      return info.pids.redis !== previous ? info : undefined;
    },
    60_000,
    100,
  );
  for (const pid of Object.values(runtime.pids)) if (pid) pids.add(pid);
  return runtime;
}

describe('npm run serve', () => {
  test('kill -9 of the supervisor: its children follow within seconds; the next start cleans up redis', {
    timeout: 120_000,
  }, async () => {
    const dir = await dataDir();
    const first = startHeadless(dir);
    pids.add(first.pid);
    const before = await waitForRuntime(dir, first);

    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    await waitFor(
      'the worker and the backend to exit',
      () => !isAlive(before.pids.worker as number) && !isAlive(before.pids.backend as number),
      8000,
    );
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs < 8000, `children gone after ${tookMs} ms`);
    // Only redis-server outlives it (nothing can stop it once the supervisor is SIGKILLed);
    // the next start must clean it up.
    assert.ok(isAlive(before.pids.redis as number), 'redis-server is still there');

    const second = startHeadless(dir);
    pids.add(second.pid);
    const now = await waitForRuntime(dir, second, before.pids.redis);
    assert.equal(isAlive(before.pids.redis as number), false, 'the stale redis-server is gone');
    const { body } = await api<{ lines: { text: string }[] }>(
      now,
      '/api/logs?service=redis&q=left+over',
    );
    assert.ok(body.lines.some((l) => l.text.includes(`pid ${before.pids.redis} left over`)));
    // Printed: each step with its time, then the sign-in link.
    assert.match(second.output(), /\[\s*[\d.]+s\] redis {4}ready in \d+ ms/);
    assert.match(second.output(), /\[\s*[\d.]+s\] worker {3}ready in \d+ ms/);
    assert.match(second.output(), /\[\s*[\d.]+s\] backend {2}ready in \d+ ms/);
    assert.ok(second.output().includes(`Sign in   ${now.uiUrl}`));

    second.child.kill('SIGTERM');
    const exit = await second.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, second.output());
    for (const pid of Object.values(now.pids)) assert.equal(isAlive(pid as number), false);
    assert.equal(existsSync(path.join(dir, 'runtime.json')), false);
  });

  test('SIGTERM while a task runs: stops within the grace period, no orphan, the task survives', {
    timeout: 120_000,
  }, async () => {
    const dir = await dataDir();
    const headless = startHeadless(dir);
    pids.add(headless.pid);
    const runtime = await waitForRuntime(dir, headless);
    const created = await api<{ id: string }>(runtime, '/api/tasks', {
      method: 'POST',
      // A shell task: its own child process must not be orphaned either.
      body: { workflow: 'shell', params: { command: 'sleep', args: ['60'] } },
    });
    assert.equal(created.status, 201);
    const id = encodeURIComponent(created.body.id);
    await waitFor('the task to run', async () => {
      const { body } = await api<{ status: string }>(runtime, `/api/tasks/${id}`);
      return body.status === 'running';
    });
    const tree = await descendants(headless.pid);
    assert.ok(tree.length >= 4, `redis, worker, backend and the task's sleep: ${tree}`);
    for (const pid of tree) pids.add(pid);

    const began = Date.now();
    headless.child.kill('SIGTERM');
    const exit = await headless.exited;
    const tookMs = Date.now() - began;
    assert.deepEqual(exit, { code: 0, signal: null }, headless.output());
    // TASKDOCK_SHUTDOWN_GRACE_MS is 3 s in the tests; the worker's stop grace is 3 s + 5 s.
    assert.ok(tookMs < 10_000, `stopped in ${tookMs} ms`);
    await waitFor('no orphan', () => tree.every((pid) => !isAlive(pid)), 3000);
    assert.equal(existsSync(path.join(dir, 'runtime.json')), false, 'runtime.json removed');
    assert.equal(existsSync(path.join(dir, 'supervisor.lock')), false, 'lock removed');
    assert.equal(existsSync(path.join(dir, 'redis', 'redis.pid')), false, 'redis pidfile removed');
    assert.match(
      headless.output(),
      /SIGTERM: stopping[\s\S]*backend {2}stopped[\s\S]*worker {3}stopped[\s\S]*redis {4}stopped/,
    );

    // Redis saved on SHUTDOWN SAVE and the worker re-queued the task: the next run has it.
    const again = testTaskdock(dir);
    try {
      const next = await again.start();
      const { body } = await api<{ status: string }>(next, `/api/tasks/${id}`);
      assert.ok(['queued', 'running'].includes(body.status), `task is ${body.status}`);
      await api(next, `/api/tasks/${id}/cancel`, { method: 'POST' });
    } finally {
      await again.stop();
    }
  });

  test('20 start/stop cycles leave no process and no stale file behind', {
    timeout: 600_000,
  }, async () => {
    const dir = await dataDir();
    const seen: number[] = [];
    for (let cycle = 1; cycle <= 20; cycle++) {
      const taskdock = testTaskdock(dir);
      try {
        const runtime = await taskdock.start();
        const cyclePids = Object.values(runtime.pids) as number[];
        for (const pid of cyclePids) pids.add(pid);
        seen.push(...cyclePids);
        assert.equal(cyclePids.length, 3);
      } finally {
        await taskdock.stop();
      }
      for (const pid of seen)
        assert.equal(isAlive(pid), false, `cycle ${cycle}: pid ${pid} is gone`);
      // Our own children, other than the test runner's helpers (e.g. tsx's esbuild service).
      const children = (await descendants(process.pid))
        .filter(isAlive)
        .map((pid) => `${pid} ${commandLine(pid)}`);
      assert.deepEqual(
        children.filter((c) => /redis-server|backend[/\\]src/.test(c)),
        [],
        `cycle ${cycle}: ${children.join('; ')}`,
      );
    }
    // `workflows` is the default folder for the user's own workflow files.
    assert.deepEqual((await readdir(dir)).sort(), [
      'backend-port',
      'logs',
      'redis',
      'token',
      'workflows',
    ]);
    assert.deepEqual((await readdir(path.join(dir, 'redis'))).sort(), [
      'appendonlydir',
      'dump.rdb',
      'redis.conf',
    ]);
  });
});
