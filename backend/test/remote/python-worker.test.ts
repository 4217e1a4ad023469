import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TaskLogs } from '@taskdock/shared/contract';
import { isAlive } from '@taskdock/shared/node/processes';
import { waitUntil } from '../helpers/processes.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { createTask, workerToken } from './remote-helpers.ts';

const WORKER_PY = fileURLToPath(
  new URL('../../../examples/workers/python/worker.py', import.meta.url),
);

describe('the Python reference worker (examples/workers/python/worker.py)', () => {
  let stack: TestStack;
  let child: ChildProcess;
  let output = '';
  before(async () => {
    stack = await startStack({ worker: false, remote: { leaseMs: 1500 } });
    await stack.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (stack.app.server.address() as AddressInfo).port;
    const { token } = await workerToken(stack, 'python', ['py-*']);
    child = spawn('python3', [WORKER_PY], {
      // Built explicitly: the worker needs only these (and PATH to find python3's libraries).
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        TASKDOCK_URL: `http://127.0.0.1:${port}`,
        TASKDOCK_WORKER_TOKEN: token,
        TASKDOCK_WORKER_ID: 'py-test',
        TASKDOCK_WORKER_MAX: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    assert.ok(await waitUntil(() => output.includes('ready'), 15_000), `worker output: ${output}`);
  });
  after(async () => {
    if (child.pid && isAlive(child.pid)) {
      process.kill(child.pid, 'SIGKILL');
      await waitUntil(() => !isAlive(child.pid as number), 5000);
    }
    await stack.close();
  });

  test('runs a task from the API: progress, logs and result', async () => {
    const task = await createTask(stack, {
      workflow: 'py-echo',
      params: { message: 'hello from node', steps: 3, stepMs: 50 },
    });
    const done = await stack.waitForTask(task.id, undefined, 15_000).catch((err) => {
      throw new Error(`${err.message} ${output}`);
    });
    assert.equal(done.status, 'completed', `${JSON.stringify(done)} ${output}`);
    assert.equal((done.result as { echo: string }).echo, 'hello from node');
    const logs = (
      await stack.request({ method: 'GET', url: `/api/tasks/${task.id}/logs` })
    ).json<TaskLogs>();
    assert.ok(
      logs.lines.some((l) => l.text === 'python step 3'),
      JSON.stringify(logs.lines),
    );
    const workers = await stack.engine.workers();
    const py = workers.find((w) => w.id === 'py-test');
    assert.equal(py?.remote?.tokenName, 'python');
    assert.deepEqual(py?.workflows, ['py-echo']);
  });

  test('a cancel stops the running function', async () => {
    const task = await createTask(stack, {
      workflow: 'py-echo',
      params: { message: 'long', steps: 1000, stepMs: 50 },
    });
    await stack.waitForTask(task.id, (t) => t.status === 'running', 10_000);
    const res = await stack.request({ method: 'POST', url: `/api/tasks/${task.id}/cancel` });
    assert.equal(res.statusCode, 200, res.body);
    // The worker learns of it at its next heartbeat (every 500 ms here) and stops the function.
    const ended = await stack.waitForTask(task.id, undefined, 5000);
    assert.equal(ended.status, 'cancelled', output);
  });

  test('SIGTERM hands the running task back: queued, no attempt counted, the worker exits', async () => {
    const task = await createTask(stack, {
      workflow: 'py-echo',
      params: { message: 'interrupted', steps: 1000, stepMs: 50 },
    });
    await stack.waitForTask(task.id, (t) => t.status === 'running', 10_000);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    const back = await stack.waitForTask(task.id, (t) => t.status === 'queued', 5000);
    assert.equal(back.attempts, 0);
    assert.match(output, /released 1 task/, 'by its shutdown, or by the poll in flight');
  });
});
