import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Task } from '@taskdock/shared/contract';
import type { RuntimeInfo } from '@taskdock/shared/node/runtime-file';
import type { Taskdock } from '../src/taskdock.ts';
import { killPids, removeDir, tempDir, waitFor } from './helpers/process.ts';
import { api, testTaskdock } from './helpers/stack.ts';

// The Redis password and the API token are handed to the worker and backend on a pipe: they
// are in no process's environment or command line, so a task cannot read them from /proc.

describe('secrets under the supervisor', { skip: process.platform !== 'linux' }, () => {
  let dataDir: string;
  let taskdock: Taskdock;
  let runtime: RuntimeInfo;
  let secrets: string[];

  const proc = (pid: number | null, file: 'environ' | 'cmdline') =>
    readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').join('\n');
  const leaked = (text: string) => secrets.filter((secret) => text.includes(secret));

  before(async () => {
    dataDir = await tempDir();
    taskdock = testTaskdock(dataDir);
    runtime = await taskdock.start();
    secrets = [new URL(runtime.redis?.url ?? '').password, runtime.token];
    assert.ok(secrets.every((s) => s.length >= 16));
  });
  after(async () => {
    const pids = Object.values(taskdock.runtime()?.pids ?? {});
    await taskdock.stop();
    await killPids(pids);
    await removeDir(dataDir);
  });

  test('neither secret is in the environment or command line of worker, backend or redis', () => {
    for (const service of ['worker', 'backend'] as const) {
      const environ = proc(runtime.pids[service], 'environ');
      assert.match(environ, /^TASKDOCK_SECRETS_FD=\d+$/m, `${service} got them on a pipe`);
      assert.doesNotMatch(environ, /TASKDOCK_REDIS_URL|TASKDOCK_TOKEN/);
      assert.deepEqual(leaked(environ), [], `${service} environ`);
      assert.deepEqual(leaked(proc(runtime.pids[service], 'cmdline')), [], `${service} cmdline`);
    }
    assert.deepEqual(
      leaked(proc(runtime.pids.redis, 'cmdline')),
      [],
      'requirepass is in redis.conf',
    );
    assert.deepEqual(leaked(proc(runtime.pids.redis, 'environ')), []);
  });

  test("a shell task reading its worker's /proc and its own env finds neither", async () => {
    const script = [
      'cat /proc/$PPID/environ | tr "\\0" "\\n"',
      'cat /proc/$PPID/cmdline | tr "\\0" " "',
      `cat /proc/${runtime.pids.backend}/environ | tr "\\0" "\\n"`,
      'env',
      'echo end',
    ].join('; ');
    const created = await api<Task>(runtime, '/api/tasks', {
      method: 'POST',
      body: { workflow: 'shell', params: { command: 'sh', args: ['-c', script] } },
    });
    assert.equal(created.status, 201);
    const id = encodeURIComponent(created.body.id);
    const task = await waitFor('the task to finish', async () => {
      const { body } = await api<Task>(runtime, `/api/tasks/${id}`);
      return body.status === 'completed' || body.status === 'failed' ? body : undefined;
    });
    assert.equal(task.status, 'completed', JSON.stringify(task.error));
    const logs = await api<unknown>(runtime, `/api/tasks/${id}/logs`);
    const seen = JSON.stringify([task.result, logs.body]);
    assert.match(seen, /TASKDOCK_SECRETS_FD/, 'the task did read the environments');
    assert.deepEqual(leaked(seen), []);
  });

  test('no log file of the stack holds either secret', async () => {
    const dir = path.join(dataDir, 'logs');
    for (const name of await readdir(dir)) {
      const text = await readFile(path.join(dir, name), 'utf8');
      assert.deepEqual(leaked(text), [], name);
    }
  });
});
