import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Task } from '@taskdock/shared/contract';
import { isAlive, processStartTime } from '@taskdock/shared/node/processes';
import { processGroupsKey } from '../../src/tasks/keys.ts';
import type { ProcessGroupRecord } from '../../src/worker/process-groups.ts';
import { pidSpaceId } from '../../src/worker/process-identity.ts';
import { waitUntil } from '../helpers/processes.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

// Process groups and /proc: the POSIX design, checked on Linux.
describe('shell tasks live and die with their worker', {
  skip: process.platform !== 'linux',
}, () => {
  let stack: TestStack;
  let dir: string;
  const workers: WorkerProcess[] = [];
  const strayPids: number[] = [];

  const spawnWorker = () => {
    const worker = startWorkerProcess({
      TASKDOCK_REDIS_URL: stack.redis.url,
      TASKDOCK_DATA_DIR: dir,
      TASKDOCK_WORKFLOWS: 'shell',
      TASKDOCK_LOCK_DURATION_MS: '1500',
      TASKDOCK_SHUTDOWN_GRACE_MS: '1000',
    });
    workers.push(worker);
    return worker;
  };
  const shell = async (script: string, extra: object = {}) => {
    const res = await stack.request({
      method: 'POST',
      url: '/api/tasks',
      payload: { workflow: 'shell', params: { command: 'sh', args: ['-c', script], ...extra } },
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json<Task>();
  };
  /** The pids in the task's log line "pids …" (its command echoes them). */
  const pidsLogged = async (taskId: string): Promise<number[]> => {
    let pids: number[] = [];
    const seen = await waitUntil(async () => {
      const line = (await stack.engine.logs(taskId)).find((l) => l.text.startsWith('pids '));
      pids = (line?.text.match(/\d+/g) ?? []).map(Number);
      return pids.length > 0;
    }, 10_000);
    assert.ok(seen, 'the task logged its pids');
    strayPids.push(...pids);
    return pids;
  };
  const allGone = (pids: readonly number[], ms: number) =>
    waitUntil(() => pids.every((pid) => !isAlive(pid)), ms);
  /** A process group of our own (`sh` leading, a `sleep` in it), as a task's would be. */
  const startGroup = async () => {
    const child = spawn('sh', ['-c', 'sleep 300 & echo $!; wait'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const pids = [child.pid as number, Number(line.toString().trim())];
    strayPids.push(...pids);
    return pids;
  };

  before(async () => {
    stack = await startStack({ worker: false });
    dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-lifetime-'));
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    for (const pid of strayPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('kill -9 of the worker: no process of the task survives, and it runs again exactly once', async () => {
    const first = spawnWorker();
    await first.ready;
    const starts = path.join(dir, 'starts');
    const orphan = path.join(dir, 'orphan');
    // The command, a child, and a grandchild whose parent exited (reparented to init, so no
    // walk of the worker's process tree finds it). The second run ends at once.
    const task = await shell(
      `echo "start $$" >> ${starts}
       if [ "$(wc -l < ${starts})" -gt 1 ]; then echo "second run"; exit 0; fi
       sleep 300 & child=$!
       (sleep 300 & echo $! > ${orphan})
       echo "pids $$ $child $(cat ${orphan})"
       wait`,
    );
    const pids = await pidsLogged(task.id);
    assert.equal(pids.length, 3);
    assert.ok(pids.every(isAlive), 'all three run before the kill');

    await first.kill();
    const killedAt = Date.now();
    assert.ok(await allGone(pids, 2000), 'within 2 s no process of the task is left');
    assert.ok(Date.now() - killedAt < 2000);
    const recorded = await stack.client.hlen(processGroupsKey(pidSpaceId() as string));
    assert.equal(recorded, 1, 'the dead worker left its record (for the reaper)');

    // Only now does another worker exist: the re-run cannot overlap the first one.
    const second = spawnWorker();
    await second.ready;
    assert.equal(
      await stack.client.hlen(processGroupsKey(pidSpaceId() as string)),
      0,
      "the starting worker reaped the dead worker's record",
    );
    const done = await stack.waitForTask(task.id, undefined, 20_000);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    assert.equal((done.result as { stdoutTail: string }).stdoutTail, 'second run');
    const lines = (await readFile(starts, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 2, 'the side effect happened exactly twice');
    await second.stop();
  });

  test("a starting worker kills the groups of dead workers, never a reused pid's", async () => {
    const pidSpace = pidSpaceId();
    assert.ok(pidSpace);
    const key = processGroupsKey(pidSpace);
    const dead = spawn('true');
    await once(dead, 'exit');
    const record = (pgid: number, changes: Partial<ProcessGroupRecord> = {}) =>
      JSON.stringify({
        taskId: 'shell:reaper-test',
        host: os.hostname(),
        workerPid: dead.pid as number,
        workerStartTime: '1',
        startTime: processStartTime(pgid) as string,
        ...changes,
      } satisfies ProcessGroupRecord);
    const orphaned = await startGroup();
    const reused = await startGroup();
    const ofLiveWorker = await startGroup();
    const [orphanedLeader, reusedLeader, liveLeader] = [orphaned, reused, ofLiveWorker].map(
      (g) => g[0] as number,
    ) as [number, number, number];
    await stack.client.hset(key, {
      [orphanedLeader]: record(orphanedLeader),
      // Same pid, another start time: the recorded process is gone, this one is someone else.
      [reusedLeader]: record(reusedLeader, { startTime: 'not-this-process' }),
      // This test process stands in for a worker that still runs.
      [liveLeader]: record(liveLeader, {
        workerPid: process.pid,
        workerStartTime: processStartTime(process.pid) as string,
      }),
    });

    const worker = spawnWorker();
    await worker.ready;
    assert.ok(await allGone(orphaned, 1000), "the dead worker's group is killed, all of it");
    assert.ok([...reused, ...ofLiveWorker].every(isAlive), 'the others are left alone');
    assert.deepEqual(Object.keys(await stack.client.hgetall(key)), [String(liveLeader)]);
    await stack.client.del(key);
    await worker.stop();
  });

  test('cancel kills the whole group, even a grandchild that left the process tree', async () => {
    const worker = spawnWorker();
    await worker.ready;
    const orphan = path.join(dir, 'cancel-orphan');
    const task = await shell(
      `(sleep 300 & echo $! > ${orphan}); echo "pids $$ $(cat ${orphan})"; sleep 300`,
    );
    const pids = await pidsLogged(task.id);
    assert.ok(pids.every(isAlive));
    const res = await stack.request({ method: 'POST', url: `/api/tasks/${task.id}/cancel` });
    assert.equal(res.json<Task>().status, 'cancelled');
    assert.ok(await allGone(pids, 2000), 'command and grandchild are gone');
    await worker.stop();
  });

  test('a command that exits leaves nothing running, and its task ends at once', async () => {
    const worker = spawnWorker();
    await worker.ready;
    // The background sleep holds stdout open: it would keep the task running for 300 s.
    const task = await shell('sleep 300 & echo "pids $!"; echo bye');
    const [sleeper] = await pidsLogged(task.id);
    const done = await stack.waitForTask(task.id, undefined, 5000);
    assert.equal(done.status, 'completed');
    assert.equal((done.result as { stdoutTail: string }).stdoutTail, `pids ${sleeper}\nbye`);
    assert.ok(await allGone([sleeper as number], 1000), 'the leftover child is killed');
    await worker.stop();
  });

  test('exit codes, signals, output and start failures come through as before', async () => {
    const worker = spawnWorker();
    await worker.ready;
    const notExecutable = path.join(dir, 'not-executable');
    await writeFile(notExecutable, 'echo hi\n');
    await chmod(notExecutable, 0o644);
    const run = async (params: object) => {
      const res = await stack.request({
        method: 'POST',
        url: '/api/tasks',
        payload: { workflow: 'shell', params },
      });
      assert.equal(res.statusCode, 201, res.body);
      return stack.waitForTask(res.json<Task>().id);
    };

    const ok = await run({ command: 'sh', args: ['-c', 'echo "parent $PPID"'] });
    assert.equal(ok.status, 'completed');
    // exec keeps the pid: the command is the worker's own child, not the wrapper's.
    assert.equal((ok.result as { stdoutTail: string }).stdoutTail, `parent ${worker.pid}`);

    const exit3 = await run({ command: 'sh', args: ['-c', 'echo out; echo err >&2; exit 3'] });
    assert.equal(exit3.status, 'failed');
    assert.equal(exit3.error?.code, 'EXIT_CODE');
    assert.equal(exit3.error?.message, 'sh exited with code 3:\nerr');
    const logs = await stack.engine.logs(exit3.id);
    assert.ok(logs.some((l) => l.stream === 'stdout' && l.text === 'out'));
    assert.ok(logs.some((l) => l.stream === 'stderr' && l.text === 'err'));

    const killed = await run({ command: 'sh', args: ['-c', 'kill -TERM $$'] });
    assert.equal(killed.error?.code, 'KILLED');
    assert.equal(killed.error?.message, 'sh was killed by SIGTERM');

    const missing = await run({ command: 'no-such-command-taskdock' });
    assert.equal(missing.error?.code, 'COMMAND_NOT_FOUND');
    assert.equal(missing.error?.message, 'Command not found: no-such-command-taskdock');
    const missingPath = await run({ command: path.join(dir, 'nothing-here') });
    assert.equal(missingPath.error?.code, 'COMMAND_NOT_FOUND');

    const denied = await run({ command: notExecutable });
    assert.equal(denied.error?.code, 'SPAWN_FAILED');

    const noCwd = await run({ command: 'sh', args: ['-c', 'true'], cwd: path.join(dir, 'gone') });
    assert.equal(noCwd.error?.code, 'CWD_NOT_FOUND');
    await worker.stop();
  });
});
