import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Task } from '@taskdock/shared/contract';
import { createQueue } from '../../src/tasks/queues.ts';
import { startRedisServer, type TestRedis } from '../helpers/redis-server.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const PASSWORD = 'secret-redis-password-6f1c2d';

describe('secrets stay out of tasks and stored failures', () => {
  let redis: TestRedis;
  let stack: TestStack;
  let dir: string;
  const workers: WorkerProcess[] = [];

  const spawnWorker = (env: Record<string, string>, secrets?: Record<string, string>) => {
    const worker = startWorkerProcess(
      { TASKDOCK_DATA_DIR: dir, TASKDOCK_WORKFLOWS: 'shell', ...env },
      secrets,
    );
    workers.push(worker);
    return worker;
  };
  const runShell = async (script: string) => {
    const res = await stack.request({
      method: 'POST',
      url: '/api/tasks',
      payload: { workflow: 'shell', params: { command: 'sh', args: ['-c', script] } },
    });
    assert.equal(res.statusCode, 201, res.body);
    return stack.waitForTask(res.json<Task>().id);
  };
  /** Everything a task left behind: result, error and logs. */
  const traces = async (task: Task) =>
    JSON.stringify([task.result, task.error, await stack.engine.logs(task.id)]);

  before(async () => {
    redis = await startRedisServer({ password: PASSWORD });
    stack = await startStack({ redis, worker: false });
    dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-secrets-'));
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await stack.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a worker given the Redis URL on a pipe shows the password nowhere a task can read', async () => {
    const worker = spawnWorker({}, { TASKDOCK_REDIS_URL: redis.url });
    await worker.ready;
    const environ = readFileSync(`/proc/${worker.pid}/environ`, 'utf8');
    assert.match(environ, /TASKDOCK_SECRETS_FD=3/);
    assert.doesNotMatch(environ, /TASKDOCK_REDIS_URL/);
    assert.ok(!environ.includes(PASSWORD));
    assert.ok(!readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8').includes(PASSWORD));

    const task = await runShell(
      'cat /proc/$PPID/environ | tr "\\0" "\\n"; cat /proc/$PPID/cmdline; echo; env; echo end',
    );
    assert.equal(task.status, 'completed');
    const seen = await traces(task);
    assert.match(seen, /TASKDOCK_SECRETS_FD/, "the task did read its worker's environment");
    assert.ok(!seen.includes(PASSWORD), 'but the password is not in it');
    assert.ok(!worker.output().includes(PASSWORD), 'nor in the worker log');
    await worker.stop();
  });

  test('a manual run with TASKDOCK_REDIS_URL in env still works; its tasks get no TASKDOCK_ variable', async () => {
    const worker = spawnWorker({ TASKDOCK_REDIS_URL: redis.url });
    await worker.ready;
    const task = await runShell('env; echo end');
    assert.equal(task.status, 'completed');
    assert.doesNotMatch(await traces(task), /TASKDOCK_|secret-redis/);
    await worker.stop();
  });

  test('bad secrets on the pipe stop the worker with a message that does not quote them', async () => {
    const worker = spawnWorker({}, { TASKDOCK_REDIS_URL: redis.url, SOMETHING: 'x-value-9a7' });
    await assert.rejects(worker.ready, (err: Error) => {
      assert.match(err.message, /worker exited \(78\)/);
      assert.match(err.message, /TASKDOCK_SECRETS_FD: unknown key "SOMETHING"/);
      assert.ok(!err.message.includes('x-value-9a7'));
      assert.ok(!err.message.includes(PASSWORD));
      return true;
    });
  });

  test('a stored failure has no stack for a TaskFailure and no absolute path in any other', async () => {
    const worker = spawnWorker({}, { TASKDOCK_REDIS_URL: redis.url });
    await worker.ready;
    const expected = await runShell('exit 4');
    assert.equal(expected.error?.code, 'EXIT_CODE');
    assert.equal(expected.error?.stack, undefined, 'an expected failure keeps no stack');

    // A job the API would refuse (BullMQ producers can add anything): a bug-like failure.
    const queue = createQueue('shell', stack.client);
    const job = await queue.add('shell', { command: 42 });
    const broken = await stack.waitForTask(`shell:${job.id}`);
    await queue.close();
    assert.equal(broken.status, 'failed');
    const trace = broken.error?.stack ?? '';
    assert.match(trace, /^TypeError/);
    assert.match(trace, /\(backend\/src\/workflows\/task-process\.ts:\d+:\d+\)/, 'frames are kept');
    assert.ok(!trace.includes(REPO_ROOT), `no install path in:\n${trace}`);
    assert.ok(!trace.includes('file://'));
    await worker.stop();
  });
});
