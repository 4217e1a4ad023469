import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { trackResources, waitFor } from '@taskdock/desktop/test/helpers/process.ts';
import { api } from '@taskdock/desktop/test/helpers/stack.ts';
import type { Task, TaskList } from '@taskdock/shared/contract';
import {
  BIN,
  jsonLines,
  type RunningApp,
  spawnTaskdock,
  startApp,
  taskdock,
} from './helpers/taskdock.ts';

const resources = trackResources();
let app: RunningApp;
const cli = (...args: string[]) => taskdock(args, { dataDir: app.dataDir });

before(async () => {
  app = await startApp(await resources.dataDir(), resources.pids);
});

const shell = (script: string) => [
  'shell',
  '-p',
  'command=sh',
  '-p',
  `args=${JSON.stringify(['-c', script])}`,
];

async function tasksOf(owner: string): Promise<Task[]> {
  const list = await api<TaskList>(app.runtime, `/api/tasks?owner=${owner}&limit=500`);
  return list.body.items as Task[];
}

describe('run --wait exits by the outcome', () => {
  test('0 when the task completed, with the result on stdout', async () => {
    const run = await cli('run', 'sleep', '-p', 'ms=50', '--wait');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^sleep:\S+ {2}completed/m);
    assert.match(run.stdout, /"sleptMs":50/);
  });

  test('1 when it failed, with its error', async () => {
    const run = await cli('run', ...shell('echo oops >&2; exit 3'), '--wait');
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /failed/);
    assert.match(run.stdout, /exited with code 3/);
  });

  test('2 when it timed out', async () => {
    const run = await cli('run', 'sleep', '-p', 'ms=5000', '--timeout', '300ms', '--wait');
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stdout, /TIMEOUT/);
  });

  test('2 when it is cancelled while the command waits', async () => {
    const owner = `cancel-${randomUUID()}`;
    const waiting = spawnTaskdock(['run', 'sleep', '-p', 'ms=20000', '--owner', owner, '--wait'], {
      dataDir: app.dataDir,
    });
    resources.pids.add(waiting.pid);
    const [task] = await waitFor('the task running', async () => {
      const tasks = await tasksOf(owner);
      return tasks[0]?.status === 'running' && tasks;
    });
    const cancel = await cli('cancel', (task as Task).id);
    assert.equal(cancel.code, 0, cancel.stderr);
    const run = await waiting.done;
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stdout, /cancelled/);
  });

  test('without --wait it prints the id at once, and `get` finds it', async () => {
    const run = await cli('run', 'sleep', '-p', 'ms=10');
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^sleep:[0-9a-f-]{36}$/);
    const get = await cli('get', id, '--wait');
    assert.equal(get.code, 0, get.stderr);
    const shown = await cli('get', id, '--output', 'json');
    assert.equal((JSON.parse(shown.stdout) as Task).status, 'completed');
  });
});

test('--follow prints the progress lines in order, log lines among them, then the outcome', async () => {
  const run = await cli('run', 'sleep', '-p', 'ms=600', '-p', 'steps=3', '--follow');
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n');
  const progress = lines.filter((line) => line.startsWith('progress'));
  assert.deepEqual(progress, [
    'progress  33% step 1/3',
    'progress  67% step 2/3',
    'progress  100% step 3/3',
  ]);
  assert.ok(lines.indexOf('running') < lines.indexOf(progress[0] as string));
  assert.ok(lines.indexOf('completed') > lines.indexOf(progress[2] as string));

  const logged = await cli('run', ...shell('echo first; sleep 0.3; echo second'), '--follow');
  assert.equal(logged.code, 0, logged.stderr);
  const out = logged.stdout.split('\n');
  assert.ok(out.indexOf('first') > out.indexOf('running'), logged.stdout);
  assert.ok(out.indexOf('second') > out.indexOf('first'), logged.stdout);
  assert.ok(out.indexOf('completed') > out.indexOf('second'), logged.stdout);
});

test('--output jsonl: every line parses, the stream ends with the finished task', async () => {
  const run = await cli('run', ...shell('echo hello'), '--follow', '--output', 'jsonl');
  assert.equal(run.code, 0, run.stderr);
  const records = jsonLines(run.stdout) as Record<
    string,
    { type?: string; text?: string; status?: string }
  >[];
  assert.ok(records.some((r) => r.event?.type === 'running'));
  assert.ok(records.some((r) => r.log?.text === 'hello'));
  assert.equal(records.at(-1)?.task?.status, 'completed');

  const list = await cli('list', '--workflow', 'shell', '--limit', '3', '-o', 'jsonl');
  assert.equal(list.code, 0, list.stderr);
  const tasks = jsonLines(list.stdout) as Task[];
  assert.equal(tasks.length, 3);
  for (const task of tasks) assert.equal(task.workflow, 'shell');
});

test('retry --all --status failed --yes retries exactly the failed tasks that match', async () => {
  const owner = `retry-${randomUUID()}`;
  for (let i = 0; i < 3; i++) {
    assert.equal((await cli('run', ...shell('exit 1'), '--owner', owner, '--wait')).code, 1);
  }
  assert.equal((await cli('run', 'sleep', '-p', 'ms=1', '--owner', owner, '--wait')).code, 0);
  const other = await cli(
    'run',
    ...shell('exit 1'),
    '--owner',
    `${owner}-x`,
    '--wait',
    '-o',
    'json',
  );
  const before = new Map(
    [...(await tasksOf(owner)), JSON.parse(other.stdout) as Task].map((t) => [t.id, t]),
  );
  const failedIds = [...before.values()]
    .filter((t) => t.owner === owner && t.status === 'failed')
    .map((t) => t.id);
  assert.equal(failedIds.length, 3);

  const refused = await cli('retry', '--all', '--status', 'failed', '--owner', owner);
  assert.equal(refused.code, 3, 'no terminal to confirm on and no --yes');
  assert.match(refused.stderr, /pass --yes/);

  const run = await cli(
    'retry',
    '--all',
    '--status',
    'failed',
    '--owner',
    owner,
    '--yes',
    '-o',
    'jsonl',
  );
  assert.equal(run.code, 0, run.stderr);
  const retried = (jsonLines(run.stdout) as { id: string; ok: boolean }[]).map((r) => r.id);
  assert.deepEqual([...retried].sort(), [...failedIds].sort());
  // Each retried task ran again (a new start after its first end); the others did not move.
  const after = await waitFor('the retried tasks to fail again', async () => {
    const tasks = new Map((await tasksOf(owner)).map((t) => [t.id, t]));
    const again = failedIds.every((id) => {
      const t = tasks.get(id);
      return t?.status === 'failed' && (t.startedAt ?? '') > (before.get(id)?.finishedAt ?? '');
    });
    return again && tasks;
  });
  for (const [id, task] of before) {
    if (failedIds.includes(id)) continue;
    const now = after.get(id) ?? (await api<Task>(app.runtime, `/api/tasks/${id}`)).body;
    assert.equal(now.updatedAt, task.updatedAt, `${id} (${task.status}, ${task.owner}) untouched`);
  }
});

test('a task that does not exist: exit 4', async () => {
  const run = await cli('get', 'shell:no-such-task');
  assert.equal(run.code, 4);
  assert.match(run.stderr, /No task/);
});

describe('no app to talk to: exit 3 and what to do', () => {
  test('no runtime.json in the data dir', async () => {
    const dataDir = await resources.dataDir();
    const run = await taskdock(['list'], { dataDir });
    assert.equal(run.code, 3);
    assert.match(run.stderr, /start Taskdock or run npm run serve/);
    assert.equal(run.stdout, '');
  });

  test('a runtime.json left by a run that is gone', async () => {
    const dataDir = await resources.dataDir();
    const { writeFile } = await import('node:fs/promises');
    const stale = { ...app.runtime, supervisor: { pid: 2 ** 22 + 1, startTime: null } };
    await writeFile(`${dataDir}/runtime.json`, JSON.stringify(stale));
    const run = await taskdock(['run', 'sleep', '--wait'], { dataDir });
    assert.equal(run.code, 3);
    assert.match(run.stderr, /start Taskdock or run npm run serve/);
  });

  test('TASKDOCK_URL where nothing listens', async () => {
    const dataDir = await resources.dataDir();
    const run = await taskdock(['stats'], {
      dataDir,
      env: { TASKDOCK_URL: 'http://127.0.0.1:9', TASKDOCK_TOKEN: 'x'.repeat(20) },
    });
    assert.equal(run.code, 3);
    assert.match(
      run.stderr,
      /Cannot reach Taskdock at http:\/\/127\.0\.0\.1:9 .*start Taskdock or run npm run serve/,
    );
  });
});

const ESC = '\u001b';

test('text output: a progress bar and colours on a terminal, plain text in a pipe', async () => {
  const args = ['run', 'sleep', '-p', 'ms=600', '-p', 'steps=2', '--wait'];
  const piped = await cli(...args);
  assert.equal(piped.code, 0);
  assert.ok(!(piped.stdout + piped.stderr).includes(`${ESC}[`), 'no escape codes in a pipe');
  // util-linux `script` gives the command a pseudo-terminal (Debian has it in bsdutils).
  const command = [process.execPath, '--import', 'tsx', BIN, ...args]
    .map((a) => `'${a}'`)
    .join(' ');
  const tty = spawnSync('script', ['-q', '-e', '-c', command, '/dev/null'], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TASKDOCK_DATA_DIR: app.dataDir,
    },
    timeout: 30_000,
  });
  assert.equal(tty.status, 0, tty.stdout);
  assert.match(tty.stdout, /\[############------------\] {2}50% {2}step 1\/2/);
  assert.ok(tty.stdout.includes(`${ESC}[32mcompleted${ESC}[39m`), 'the status in green');
});

test('params: text where the schema wants a string, JSON otherwise, a file on stdin', async () => {
  // "true" stays the program's name (the shell schema wants a string), not the boolean.
  const run = await cli('run', 'shell', '-p', 'command=true', '--wait');
  assert.equal(run.code, 0, run.stderr);
  const piped = await taskdock(
    ['run', 'sleep', '--params-file', '-', '-p', 'steps=2', '--wait', '-o', 'json'],
    {
      dataDir: app.dataDir,
      input: '{"ms": 20, "steps": 5}',
    },
  );
  assert.equal(piped.code, 0, piped.stderr);
  assert.deepEqual((JSON.parse(piped.stdout) as Task).params, { ms: 20, steps: 2 });
  const bad = await cli('run', 'sleep', '-p', 'ms=fast');
  assert.equal(bad.code, 3, 'refused by the schema');
  assert.match(bad.stderr, /ms/);
});

test('every other command answers in json and jsonl that parse', async () => {
  const name = `nightly-${randomUUID().slice(0, 8)}`;
  const add = await cli('schedules', 'add', name, 'sleep', '0 3 * * *', '-p', 'ms=1', '-o', 'json');
  assert.equal(add.code, 0, add.stderr);
  assert.equal((JSON.parse(add.stdout) as { id: string }).id, name);
  const listed = await cli('schedules', 'list', '-o', 'jsonl');
  assert.ok((jsonLines(listed.stdout) as { id: string }[]).some((s) => s.id === name));
  assert.equal((await cli('schedules', 'rm', name)).code, 0);
  assert.equal((await cli('schedules', 'rm', name)).code, 4, 'gone');

  const workflows = jsonLines((await cli('workflows', '-o', 'jsonl')).stdout) as { name: string }[];
  for (const builtIn of ['http', 'shell', 'sleep']) {
    assert.ok(
      workflows.some((w) => w.name === builtIn),
      builtIn,
    );
  }
  const services = JSON.parse((await cli('services', '-o', 'json')).stdout) as {
    supervised: boolean;
  };
  assert.equal(services.supervised, true);
  const workers = jsonLines((await cli('workers', '-o', 'jsonl')).stdout);
  assert.ok(workers.length >= 1, 'the supervised worker');
  const stats = JSON.parse((await cli('stats', '-o', 'json')).stdout) as {
    totals: { created: number };
  };
  assert.ok(stats.totals.created > 0);
});
