import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, test } from 'node:test';
import { trackResources, waitFor } from '@taskdock/desktop/test/helpers/process.ts';
import { api } from '@taskdock/desktop/test/helpers/stack.ts';
import type { Task } from '@taskdock/shared/contract';
import { type RunningApp, spawnTaskdock, startApp, taskdock } from './helpers/taskdock.ts';

const resources = trackResources();
let app: RunningApp;
const workflow = `render-${randomUUID().slice(0, 8)}`;
let workerToken: string;
let script: string;

// The remote worker's command: params from stdin and the env, progress, a log line, a result.
const SCRIPT = `
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const params = JSON.parse(input);
  console.log('::progress 50 halfway');
  console.log('rendering n=' + process.env.TASKDOCK_PARAM_N + ' of ' + process.env.TASKDOCK_TASK_ID);
  if (params.hold) await new Promise((r) => setTimeout(r, 60_000));
  console.log(JSON.stringify({ double: params.n * 2 }));
});
`;

before(async () => {
  app = await startApp(await resources.dataDir(), resources.pids);
  const declared = await api(app.runtime, `/api/workflows/${workflow}`, {
    method: 'PUT',
    body: {
      remote: true,
      paramsSchema: {
        type: 'object',
        properties: { n: { type: 'integer' }, hold: { type: 'boolean' } },
        required: ['n'],
      },
    },
  });
  assert.equal(declared.status, 200, JSON.stringify(declared.body));
  const created = await taskdock(
    ['worker-tokens', 'create', 'test-box', '--workflows', 'render-*'],
    {
      dataDir: app.dataDir,
    },
  );
  assert.equal(created.code, 0, created.stderr);
  workerToken = created.stdout.trim();
  script = path.join(app.dataDir, 'render.mjs');
  await writeFile(script, SCRIPT);
});

/** `taskdock work` as a remote machine runs it: the URL and a worker token, no data dir. */
function startWorker() {
  const worker = spawnTaskdock(
    ['work', '--workflows', 'render-*', '--concurrency', '2', '--', process.execPath, script],
    {
      dataDir: path.join(app.dataDir, 'elsewhere'),
      env: { TASKDOCK_URL: app.runtime.apiUrl, TASKDOCK_TOKEN: workerToken },
    },
  );
  resources.pids.add(worker.pid);
  return worker;
}

test('work runs tasks created from another shell: params in, progress and logs, result out', async () => {
  const worker = startWorker();
  const runs = await Promise.all(
    [1, 2, 3].map((n) =>
      taskdock(['run', workflow, '-p', `n=${n}`, '--wait', '-o', 'json'], { dataDir: app.dataDir }),
    ),
  );
  for (const [i, run] of runs.entries()) {
    assert.equal(run.code, 0, run.stderr);
    const task = JSON.parse(run.stdout) as Task;
    assert.equal(task.status, 'completed');
    assert.deepEqual(task.result, { double: (i + 1) * 2 });
    const logs = await taskdock(['logs', task.id], { dataDir: app.dataDir });
    assert.match(logs.stdout, new RegExp(`rendering n=${i + 1} of ${task.id}`));
  }
  worker.child.kill('SIGTERM');
  assert.equal((await worker.done).code, 0);
});

test('SIGTERM: work stops its command, releases the lease (no attempt counted), exits 0', async () => {
  const worker = startWorker();
  const run = await taskdock(['run', workflow, '-p', 'n=5', '-p', 'hold=true'], {
    dataDir: app.dataDir,
  });
  const id = run.stdout.trim();
  await waitFor('the task running on the worker', async () => {
    const { body } = await api<Task>(app.runtime, `/api/tasks/${id}`);
    return body.status === 'running' && body.progress.percent === 50;
  });
  worker.child.kill('SIGTERM');
  const stopped = await worker.done;
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, new RegExp(`released ${id}`));
  const { body: task } = await api<Task>(app.runtime, `/api/tasks/${id}`);
  assert.equal(task.status, 'queued', 'back in the queue for another worker');
  assert.equal(task.attempts, 0, 'a release counts no attempt');

  // Another worker picks it up; this time it is cancelled through the heartbeat.
  const second = startWorker();
  await waitFor('the task running again', async () => {
    const { body } = await api<Task>(app.runtime, `/api/tasks/${id}`);
    return body.status === 'running' && body.progress.percent === 50;
  });
  const cancel = await taskdock(['cancel', id], { dataDir: app.dataDir });
  assert.equal(cancel.code, 0, cancel.stderr);
  const ended = await taskdock(['get', id, '--wait'], { dataDir: app.dataDir });
  assert.equal(ended.code, 2, ended.stdout + ended.stderr);
  second.child.kill('SIGTERM');
  assert.equal((await second.done).code, 0);
});
