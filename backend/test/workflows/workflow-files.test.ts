import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Task, WorkflowInfo } from '@taskdock/shared/contract';
import { OS_ENV_KEYS, pickEnv } from '@taskdock/shared/node/env';
import { pino } from 'pino';
import { builtInWorkflows, createWorkflowRegistry } from '../../src/workflows/registry.ts';
import {
  type WorkflowWatcher,
  watchWorkflowFolders,
} from '../../src/workflows/workflow-watcher.ts';
import { waitUntil } from '../helpers/processes.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

/**
 * Workflow files against a real stack: the API (in this process, watching the folder as
 * server.ts does) and a real worker process started with TASKDOCK_WORKFLOWS_PATH.
 */
describe('workflow files', () => {
  let dir: string;
  let stack: TestStack;
  let watcher: WorkflowWatcher;
  let worker: WorkerProcess;

  /** Written whole, then renamed into place: a reader never sees half a file. */
  const put = async (name: string, content: string | object) => {
    const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
    const temp = path.join(dir, `.${name}.tmp`);
    await writeFile(temp, text);
    await rename(temp, path.join(dir, name));
  };
  const listed = async (): Promise<WorkflowInfo[]> => {
    const res = await stack.request({ method: 'GET', url: '/api/workflows' });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ items: WorkflowInfo[] }>().items;
  };
  /** Polls the listing until `check` finds what it wants; returns it and how long it took. */
  const waitForListing = async <T>(check: (items: WorkflowInfo[]) => T | undefined) => {
    const started = Date.now();
    let found: T | undefined;
    await waitUntil(async () => {
      found = check(await listed());
      return found !== undefined;
    }, 5000);
    assert.ok(found !== undefined, `listing: ${JSON.stringify(await listed())}`);
    return { found, ms: Date.now() - started };
  };
  const served = (name: string) =>
    waitForListing((items) => items.find((w) => w.name === name && w.workers > 0));
  const create = async (workflow: string, params: object = {}) => {
    const res = await stack.request({
      method: 'POST',
      url: '/api/tasks',
      payload: { workflow, params },
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json<Task>();
  };
  const run = async (workflow: string, params: object = {}) => {
    const task = await stack.waitForTask((await create(workflow, params)).id, undefined, 15_000);
    assert.equal(task.status, 'completed', JSON.stringify(task));
    return task;
  };
  /** How often the worker logged that `file` loaded (it logs each new state once). */
  const workerLoads = (file: string) =>
    worker
      .output()
      .split('\n')
      .filter((l) => l.includes('"workflow file loaded"') && l.includes(JSON.stringify(file)))
      .length;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-workflows-'));
    const registry = createWorkflowRegistry(
      builtInWorkflows({ baseEnv: pickEnv(process.env, OS_ENV_KEYS) }),
    );
    watcher = await watchWorkflowFolders({
      folders: [dir],
      registry,
      load: { baseEnv: pickEnv(process.env, OS_ENV_KEYS), processGroups: undefined },
      logger: pino({ level: 'silent' }),
    });
    stack = await startStack({ worker: false, registry });
    worker = startWorkerProcess({
      TASKDOCK_REDIS_URL: stack.redis.url,
      TASKDOCK_DATA_DIR: dir,
      TASKDOCK_WORKFLOWS_PATH: dir,
      TASKDOCK_LOCK_DURATION_MS: '2000',
      TASKDOCK_SHUTDOWN_GRACE_MS: '3000',
    });
    await worker.ready;
  });
  after(async () => {
    await worker?.kill();
    watcher?.close();
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a declarative and a code file dropped in are listed within 2 s, and their tasks run with progress and results', async () => {
    await put('greet.json', {
      name: 'greet',
      description: 'Greets in JSON',
      params: {
        type: 'object',
        properties: { who: { type: 'string' } },
        required: ['who'],
        additionalProperties: false,
      },
      command: process.execPath,
      args: [
        '-e',
        'console.log("::progress 40 greeting"); console.log("working"); console.log(JSON.stringify({ hello: process.argv[1] }))',
        '{{params.who}}',
      ],
      result: 'json',
    });
    await put(
      'double.mjs',
      `export default {
        name: 'double',
        description: 'Doubles a number',
        paramsSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
        async run({ params, progress, log }) {
          await progress(50, 'halfway');
          await log('doubling ' + params.n);
          return { doubled: params.n * 2 };
        },
      };`,
    );
    const { ms } = await waitForListing((items) => {
      const names = items.map((w) => w.name);
      return names.includes('greet') && names.includes('double') ? true : undefined;
    });
    assert.ok(ms < 2000, `listed after ${ms} ms`);
    const items = await listed();
    const greet = items.find((w) => w.name === 'greet');
    assert.deepEqual(greet?.source, { kind: 'file', path: path.join(dir, 'greet.json') });
    assert.equal(greet?.description, 'Greets in JSON');
    assert.equal(items.find((w) => w.name === 'shell')?.source.kind, 'built-in');

    await served('greet');
    await served('double');
    const greeted = await run('greet', { who: 'Ada' });
    assert.deepEqual(greeted.result, { hello: 'Ada' });
    assert.deepEqual(greeted.progress, { percent: 100 }, 'a completed task shows 100%');
    const lines = (await stack.engine.logs(greeted.id)).map((l) => l.text);
    assert.ok(lines.includes('working'), lines.join('\n'));
    assert.ok(!lines.some((l) => l.startsWith('::progress')), 'progress lines are not logged');

    // The event relay follows the new workflow's queue at once: lists and counts are current.
    assert.ok(
      await waitUntil(async () => {
        const res = await stack.request({
          method: 'GET',
          url: '/api/tasks?workflow=greet&status=completed',
        });
        return res.json().items.some((t: Task) => t.id === greeted.id);
      }, 2000),
      'the completed task is in the list within 2 s',
    );

    const doubled = await run('double', { n: 21 });
    assert.deepEqual(doubled.result, { doubled: 42 });
    assert.ok((await stack.engine.logs(doubled.id)).some((l) => l.text === 'doubling 21'));

    // Params are checked against the file's schema at create.
    const bad = await stack.request({
      method: 'POST',
      url: '/api/tasks',
      payload: { workflow: 'double', params: { n: 'x' } },
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /\/params\/n/);
  });

  test('progress lines set the progress of a running declarative task', async () => {
    await put('steps.json', {
      name: 'steps',
      command: process.execPath,
      args: ['-e', 'console.log("::progress 30 first"); setTimeout(() => {}, 1500)'],
    });
    await served('steps');
    const task = await create('steps');
    const running = await stack.waitForTask(task.id, (t) => t.progress.percent === 30);
    assert.deepEqual(running.progress, { percent: 30, step: 'first' });
    const done = await stack.waitForTask(task.id);
    assert.equal(done.status, 'completed');
    assert.equal(done.result, '', 'the default result is the stdout text (here none)');
  });

  test('an edited file: running tasks finish on the old definition, new tasks use the new one', async () => {
    const file = path.join(dir, 'version.mjs');
    const version = (n: number) => `
      import { setTimeout as sleep } from 'node:timers/promises';
      export const name = 'version';
      export const description = 'version ${n}';
      export const paramsSchema = { type: 'object', properties: { ms: { type: 'integer' } } };
      export async function run({ params }) {
        await sleep(params.ms ?? 0);
        return { version: ${n} };
      }`;
    await put('version.mjs', version(1));
    await served('version');
    const loadsBefore = workerLoads(file);
    const slow = await create('version', { ms: 1500 });
    await stack.waitForTask(slow.id, (t) => t.status === 'running');

    await put('version.mjs', version(2));
    const { ms } = await waitForListing((items) =>
      items.find((w) => w.name === 'version' && w.description === 'version 2'),
    );
    assert.ok(ms < 2000, `the API had the new version after ${ms} ms`);
    assert.ok(
      await waitUntil(() => workerLoads(file) > loadsBefore, 2000),
      'the worker loaded the new version within 2 s',
    );
    assert.deepEqual((await run('version', { ms: 0 })).result, { version: 2 });
    const old = await stack.waitForTask(slow.id);
    assert.equal(old.status, 'completed');
    assert.deepEqual(old.result, { version: 1 }, 'the running task kept its definition');
  });

  test('a broken file is listed with its error, its tasks are refused, and the worker serves the rest', async () => {
    await put('bad-field.json', { name: 'bad-field', command: 5 });
    await put('bad-json.json', '{\n  "name": "bad-json",\n  "command": "true",\n}\n');
    await put(
      'bad-code.mjs',
      'export default {\n  name: "bad-code",\n  run() {\n    return (;\n  },\n};\n',
    );
    await put('bad-template.json', {
      name: 'bad-template',
      command: 'echo',
      args: ['{{params.nope}}'],
    });
    const { found } = await waitForListing((items) => {
      const broken = items.filter((w) => w.error);
      return broken.length >= 4 ? broken : undefined;
    });
    const byName = new Map(found.map((w) => [w.name, w]));
    const fieldError = byName.get('bad-field')?.error;
    assert.equal(fieldError?.file, path.join(dir, 'bad-field.json'));
    assert.equal(fieldError?.field, '/command');
    assert.equal(fieldError?.line, 3, 'the line of "command"');
    assert.match(fieldError?.message ?? '', /string/);
    const jsonError = byName.get('bad-json')?.error;
    assert.equal(jsonError?.line, 4);
    assert.match(jsonError?.message ?? '', /not JSON/);
    const codeError = byName.get('bad-code')?.error;
    assert.equal(codeError?.line, 4);
    assert.match(codeError?.message ?? '', /SyntaxError/);
    assert.equal(byName.get('bad-template')?.error?.field, '/args/0');
    assert.equal(byName.get('bad-field')?.workers, 0);
    assert.deepEqual(byName.get('bad-field')?.source, {
      kind: 'file',
      path: path.join(dir, 'bad-field.json'),
    });

    const refused = await stack.request({
      method: 'POST',
      url: '/api/tasks',
      payload: { workflow: 'bad-field', params: {} },
    });
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error.code, 'WORKFLOW_NOT_LOADED');
    assert.match(refused.json().error.message, /bad-field\.json:3: \/command/);

    // The worker logged the error and serves the rest.
    assert.ok(
      await waitUntil(() => worker.output().includes('bad-field.json:3: /command'), 2000),
      worker.output(),
    );
    assert.deepEqual((await run('double', { n: 2 })).result, { doubled: 4 });
  });

  test('a file that breaks stops being served; fixed, it is served again', async () => {
    const good = { name: 'flaky', command: process.execPath, args: ['-e', 'console.log("ok")'] };
    await put('flaky.json', good);
    await served('flaky');
    await put('flaky.json', { ...good, args: 'not a list' });
    await waitForListing((items) => items.find((w) => w.name === 'flaky' && w.error));
    assert.ok(
      await waitUntil(async () => {
        const workers = await stack.engine.workers();
        return workers.length > 0 && workers.every((w) => !w.workflows.includes('flaky'));
      }, 5000),
      'no worker serves a workflow it cannot load',
    );
    await put('flaky.json', good);
    await served('flaky');
    assert.equal((await run('flaky')).result, 'ok');
  });

  test('a worker meant for a broken file starts anyway, and serves it once it is fixed', async () => {
    const good = { name: 'later', command: process.execPath, args: ['-e', 'console.log("later")'] };
    await put('later.json', { ...good, command: 7 });
    await waitForListing((items) => items.find((w) => w.name === 'later' && w.error));
    const only = startWorkerProcess({
      TASKDOCK_REDIS_URL: stack.redis.url,
      TASKDOCK_DATA_DIR: dir,
      TASKDOCK_WORKFLOWS_PATH: dir,
      TASKDOCK_WORKFLOWS: 'later',
    });
    try {
      await only.ready;
      assert.match(only.output(), /serving no workflow until/);
      await put('later.json', good);
      // Both workers serve it now.
      await waitForListing((items) => items.find((w) => w.name === 'later' && w.workers === 2));
      assert.equal((await run('later')).result, 'later');
    } finally {
      await only.stop();
    }
  });

  test('a template value arrives as exactly one argument, verbatim: no shell, no splitting', async () => {
    const marker = path.join(dir, 'pwned');
    await put('echo-args.json', {
      name: 'echo-args',
      params: { type: 'object', properties: { value: { type: 'string' } } },
      command: process.execPath,
      args: [
        '-e',
        'console.log(JSON.stringify(process.argv.slice(1)))',
        '{{params.value}}',
        'at-{{ params.value }}-end',
      ],
      result: 'json',
    });
    await served('echo-args');
    const hostile = `two words "double" 'single'; touch ${marker} $(touch ${marker}) \`touch ${marker}\` | & > x\nsecond line {{params.value}}`;
    const task = await run('echo-args', { value: hostile });
    assert.deepEqual(task.result, [hostile, `at-${hostile}-end`]);
    assert.equal(existsSync(marker), false, 'nothing in the value ran');

    const nul = await stack.request({
      method: 'POST',
      url: '/api/tasks',
      payload: { workflow: 'echo-args', params: { value: 'a\u0000b' } },
    });
    assert.equal(nul.statusCode, 400, 'a NUL, which the OS would cut an argument at, is refused');
  });

  test('a name that clashes with a built-in or another file is an error naming both', async () => {
    await put('my-shell.json', { name: 'shell', command: 'true' });
    await put('dup-a.json', { name: 'dup', command: 'true' });
    await put(
      'dup-b.mjs',
      'export default { name: "dup", paramsSchema: { type: "object" }, run() {} };',
    );
    const { found } = await waitForListing((items) => {
      const clashes = items.filter((w) => w.error && ['shell', 'dup'].includes(w.name));
      return clashes.length === 3 ? clashes : undefined;
    });
    const errorOf = (file: string) =>
      found.find((w) => w.error?.file === path.join(dir, file))?.error?.message ?? '';
    assert.match(errorOf('my-shell.json'), /built-in workflow "shell"/);
    assert.ok(errorOf('dup-a.json').includes(path.join(dir, 'dup-b.mjs')), errorOf('dup-a.json'));
    assert.ok(errorOf('dup-b.mjs').includes(path.join(dir, 'dup-a.json')), errorOf('dup-b.mjs'));
    const shell = (await listed()).find((w) => w.name === 'shell' && !w.error);
    assert.equal(shell?.source.kind, 'built-in', 'the built-in keeps its name');

    await unlink(path.join(dir, 'dup-b.mjs'));
    await waitForListing((items) => items.find((w) => w.name === 'dup' && !w.error));
  });

  test('task options of a file: concurrency is global, retries and timeout are the defaults', async () => {
    await put('limited.json', {
      name: 'limited',
      command: process.execPath,
      args: ['-e', 'process.exit(3)'],
      concurrency: 1,
      maxAttempts: 2,
      backoff: { type: 'fixed', delayMs: 10 },
      timeoutMs: 60_000,
    });
    await served('limited');
    const queue = (await stack.engine.queues()).find((q) => q.workflow === 'limited');
    assert.equal(queue?.globalConcurrency, 1);
    const task = await stack.waitForTask((await create('limited')).id, undefined, 15_000);
    assert.equal(task.status, 'failed');
    assert.equal(task.attempts, 2);
    assert.equal(task.timeoutMs, 60_000);
    assert.equal(task.error?.code, 'EXIT_CODE');
  });
});
