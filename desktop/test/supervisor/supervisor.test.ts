import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { ServiceName } from '@taskdock/shared/contract';
import { isAlive } from '@taskdock/shared/node/processes';
import { LogStore } from '../../src/supervisor/logs.ts';
import {
  type ServiceSpec,
  StartupError,
  Supervisor,
  type SupervisorEvent,
} from '../../src/supervisor/supervisor.ts';
import { killPids, waitFor } from '../helpers/process.ts';

// Real processes: small Node scripts stand in for the services, so each behaviour (slow start,
// no start, crash, ignoring SIGTERM) is exact and fast.

const pids = new Set<number>();
const supervisors: Supervisor[] = [];
afterEach(async () => {
  for (const sv of supervisors.splice(0)) await sv.stop();
  await killPids(pids);
  pids.clear();
});

interface ScriptOptions {
  readyTimeoutMs?: number;
  stopGraceMs?: number;
}

/** A service that runs `script` with node and is healthy once it prints "ready". */
function scriptService(
  name: ServiceName,
  script: string,
  options: ScriptOptions = {},
): ServiceSpec {
  return {
    name,
    readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    stopGraceMs: options.stopGraceMs ?? 3000,
    async prepare() {
      return { command: process.execPath, args: ['-e', script], env: {}, cwd: process.cwd() };
    },
    async waitHealthy({ run, signal, note }) {
      pids.add(run.pid);
      note('no "ready" line yet');
      await run.waitForLine((line) => line.text === 'ready', signal);
    },
    async requestStop(run) {
      run.child.kill('SIGTERM');
    },
  };
}

const READY_AFTER = (ms: number) =>
  `setTimeout(() => console.log('ready'), ${ms}); setInterval(() => {}, 1000);`;

function supervise(services: ServiceSpec[], restart = {}) {
  const logs = new LogStore({ dir: undefined });
  const sv = new Supervisor({ services, logs, restart });
  supervisors.push(sv);
  const events: SupervisorEvent[] = [];
  sv.onEvent((e) => events.push(e));
  return { sv, logs, events };
}

const timeline = (events: SupervisorEvent[]) => events.map((e) => `${e.service}:${e.type}`);

describe('Supervisor', () => {
  test('starts services in order, each only after the previous one is healthy', async () => {
    const { sv, events } = supervise([
      scriptService('redis', READY_AFTER(300)),
      scriptService('worker', READY_AFTER(200)),
      scriptService('backend', READY_AFTER(100)),
    ]);
    await sv.start();
    assert.deepEqual(timeline(events), [
      'redis:starting',
      'redis:ready',
      'worker:starting',
      'worker:ready',
      'backend:starting',
      'backend:ready',
    ]);
    const ready = events.filter((e) => e.type === 'ready');
    assert.ok(ready[0] && ready[0].type === 'ready' && ready[0].durationMs >= 300, 'timings');
    for (let i = 1; i < events.length; i++) {
      assert.ok((events[i]?.sinceStartMs ?? 0) >= (events[i - 1]?.sinceStartMs ?? 0));
    }
    assert.deepEqual(
      sv.services().map((s) => [s.name, s.status, typeof s.pid]),
      [
        ['redis', 'running', 'number'],
        ['worker', 'running', 'number'],
        ['backend', 'running', 'number'],
      ],
    );

    events.length = 0;
    await sv.stop();
    assert.deepEqual(timeline(events), ['backend:stopped', 'worker:stopped', 'redis:stopped']);
    assert.ok(events.every((e) => e.type === 'stopped' && !e.forced));
    for (const pid of pids) assert.equal(isAlive(pid), false);
  });

  test('a service that never becomes healthy fails startup with its name and reason', async () => {
    const { sv, events } = supervise([
      scriptService('redis', READY_AFTER(0)),
      scriptService('worker', 'setInterval(() => {}, 1000)', { readyTimeoutMs: 400 }),
      scriptService('backend', READY_AFTER(0)),
    ]);
    const began = Date.now();
    await assert.rejects(sv.start(), (err: unknown) => {
      assert.ok(err instanceof StartupError);
      assert.equal(err.service, 'worker');
      assert.match(err.message, /^worker failed to start: did not become healthy within 0.4 s/);
      assert.match(err.reason, /last check: no "ready" line yet/);
      return true;
    });
    assert.ok(Date.now() - began < 5000, 'no hang');
    assert.ok(!timeline(events).includes('backend:starting'), 'backend never started');
    assert.ok(timeline(events).includes('redis:stopped'), 'redis stopped again');
    assert.equal(sv.services().find((s) => s.name === 'worker')?.status, 'failed');
    for (const pid of pids) assert.equal(isAlive(pid), false);
  });

  test('a service that exits during startup fails at once with its last words', async () => {
    const { sv } = supervise([
      scriptService('redis', `console.error('FATAL: cannot open /nope/data'); process.exit(3);`),
    ]);
    await assert.rejects(sv.start(), (err: unknown) => {
      assert.ok(err instanceof StartupError);
      assert.equal(err.service, 'redis');
      assert.match(
        err.reason,
        /exited with code 3 before it was ready.*FATAL: cannot open \/nope\/data/,
      );
      assert.deepEqual(
        err.lastLines.filter((l) => l.startsWith('FATAL')),
        ['FATAL: cannot open /nope/data'],
      );
      return true;
    });
  });

  test('restarts a crashed service with exponential backoff, then gives up and says so', async () => {
    const { sv, events } = supervise(
      [
        scriptService(
          'worker',
          `console.log('ready'); setTimeout(() => { console.log('last words'); process.exit(1); }, 150);`,
        ),
      ],
      { maxRestarts: 2, windowMs: 60_000, initialDelayMs: 100, maxDelayMs: 10_000 },
    );
    await sv.start();
    const failed = await waitFor('the worker to be given up', () =>
      events.find((e) => e.type === 'failed'),
    );
    const restarting = events.filter((e) => e.type === 'restarting');
    assert.deepEqual(
      restarting.map((e) => e.type === 'restarting' && [e.delayMs, e.restarts]),
      [
        [100, 1],
        [200, 2],
      ],
    );
    assert.ok(failed.type === 'failed');
    assert.match(
      failed.reason,
      /crashed 3 times within 60 s; not restarting it again. Last: exited with code 1/,
    );
    const [worker] = sv.services();
    assert.equal(worker?.status, 'failed');
    assert.equal(worker?.restarts, 2);
    assert.equal(worker?.pid, null);
    assert.equal(worker?.lastExit?.code, 1);
    assert.ok(worker?.lastExit?.lastLines.includes('last words'), 'last words kept');
    assert.match(worker?.message ?? '', /crashed 3 times/);
  });

  test('stop: graceful first, then the whole tree is killed after the grace period', async () => {
    // Ignores SIGTERM and has a child of its own: only the tree kill ends them.
    const stubborn = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
      console.log('child ' + child.pid);
      console.log('ready');
      setInterval(() => {}, 1000);`;
    const { sv, events, logs } = supervise([
      scriptService('redis', READY_AFTER(0)),
      scriptService('worker', stubborn, { stopGraceMs: 500 }),
    ]);
    await sv.start();
    const childLine = logs
      .query({ service: 'worker', q: 'child ' })
      .find((l) => l.stream === 'stdout');
    const grandchild = Number(childLine?.text.split(' ')[1]);
    pids.add(grandchild);
    assert.ok(isAlive(grandchild));

    events.length = 0;
    const began = Date.now();
    await sv.stop();
    const elapsed = Date.now() - began;
    assert.ok(elapsed >= 500 && elapsed < 4000, `stopped after the grace period (${elapsed} ms)`);
    assert.deepEqual(timeline(events), ['worker:stopped', 'redis:stopped']);
    const [worker, redis] = events;
    assert.ok(worker?.type === 'stopped' && worker.forced, 'worker was force-killed');
    assert.ok(redis?.type === 'stopped' && !redis.forced, 'redis stopped gracefully');
    await waitFor('the grandchild to be gone', () => !isAlive(grandchild), 3000);
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} is gone`);
    const said = logs.query({ service: 'worker', q: 'ignoring SIGTERM' });
    assert.equal(said.filter((l) => l.stream === 'stdout').length, 1, 'SIGTERM was tried first');
  });

  test('stop during startup cancels the start and leaves nothing running', async () => {
    const { sv } = supervise([
      scriptService('redis', READY_AFTER(0)),
      scriptService('worker', 'setInterval(() => {}, 1000)', { readyTimeoutMs: 30_000 }),
    ]);
    const starting = sv.start();
    await waitFor('the worker to start', () => sv.services().find((s) => s.name === 'worker')?.pid);
    const began = Date.now();
    await sv.stop();
    await assert.rejects(starting, /startup was cancelled/);
    assert.ok(Date.now() - began < 5000);
    for (const pid of pids) assert.equal(isAlive(pid), false);
  });
});
