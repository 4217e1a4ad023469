import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Task } from '@taskdock/shared/contract';
import type { RuntimeInfo } from '@taskdock/shared/node/runtime-file';
import { followLiveTasks, type LiveTasks } from '../src/shell/live-tasks.ts';
import { taskPageSignIn } from '../src/shell/task-page.ts';
import type { Notifier } from '../src/shell/watched-tasks.ts';
import type { Taskdock } from '../src/taskdock.ts';
import { trackResources, waitFor } from './helpers/process.ts';
import { api, testTaskdock } from './helpers/stack.ts';

// The shell's live part against a real backend (memory mode: the quickest real stack): it
// follows the real `GET /api/events` SSE and `GET /api/stats`, with fakes of the notifier and
// the tray badge only.

const { pids, dataDir } = trackResources();

const shellTask = (script: string) => ({
  workflow: 'shell',
  params: { command: process.execPath, args: ['-e', script] },
  maxAttempts: 1,
});

describe('watched-task notifications and the running count, from a real backend', () => {
  let taskdock: Taskdock;
  let runtime: RuntimeInfo;
  let live: LiveTasks;
  const notes: Parameters<Notifier['notify']>[0][] = [];
  const counts: number[] = [];
  const opened: string[] = [];

  before(async () => {
    // A UI of one page: the sign-in link answers only once a UI is there to land on.
    const dir = await dataDir();
    const ui = path.join(dir, 'ui');
    await mkdir(ui);
    await writeFile(path.join(ui, 'index.html'), '<!doctype html><title>Taskdock</title>');
    taskdock = testTaskdock(dir, { env: { TASKDOCK_STORE: 'memory', TASKDOCK_UI_DIR: ui } });
    runtime = await taskdock.start();
    pids.add(runtime.pids.backend);
    live = followLiveTasks({
      apiUrl: runtime.apiUrl,
      token: runtime.token,
      notifier: { notify: (note) => void notes.push(note) },
      badge: { show: (running) => void counts.push(running) },
      openTask: (id) => opened.push(id),
      settleMs: 50,
      reconnectDelayMs: 100,
    });
    await waitFor('the first count', () => counts.length > 0);
  });
  after(async () => {
    live?.stop();
    await taskdock?.stop();
  });

  const create = async (script: string) => {
    const { status, body } = await api<Task>(runtime, '/api/tasks', {
      method: 'POST',
      body: shellTask(script),
    });
    assert.equal(status, 201);
    return body.id;
  };

  test('the count goes up while tasks run and back to 0', async () => {
    assert.equal(counts.at(-1), 0);
    const id = await create("setTimeout(() => console.log('done'), 1500)");
    await waitFor('1 running on the badge', () => counts.at(-1) === 1);
    await waitFor('0 running on the badge', () => counts.at(-1) === 0);
    assert.equal(
      notes.some((n) => n.title.includes(id)),
      false,
      'an unwatched task is not announced',
    );
  });

  test('a watched task that completes, and one that fails, are announced', async () => {
    const good = await create("setTimeout(() => console.log('ok'), 500)");
    live.watch(good);
    const bad = await create("setTimeout(() => { console.error('boom'); process.exit(3) }, 500)");
    live.watch(bad);
    await waitFor('two notifications', () => notes.length >= 2, 20_000);
    const byTitle = new Map(notes.map((n) => [n.title, n]));
    assert.ok(byTitle.has(`Task completed: ${good}`), [...byTitle.keys()].join(' | '));
    const failed = byTitle.get(`Task failed: ${bad}`);
    assert.ok(failed, [...byTitle.keys()].join(' | '));
    assert.notEqual(failed.body, '', 'says why');
    failed.onClick();
    assert.deepEqual(opened, [bad]);
  });

  test('a crashed backend is followed again once the supervisor restarts it', async () => {
    const pid = taskdock.supervisor?.pid('backend');
    assert.ok(pid);
    let restarted = false;
    const off = taskdock.onEvent((e) => {
      if (e.service === 'backend' && e.type === 'ready') restarted = true;
    });
    process.kill(pid, 'SIGKILL');
    await waitFor('the backend back', () => restarted, 30_000);
    off();
    pids.add(taskdock.supervisor?.pid('backend'));
    const before = notes.length;
    // Its port is kept: the same apiUrl; the feed reconnects on its own (within 100 ms here;
    // a memory-mode backend starts a new stream, so the task runs long enough to be seen).
    const id = await create("setTimeout(() => console.log('ok'), 1000)");
    live.watch(id);
    await waitFor('its notification', () => notes.length > before, 20_000);
    assert.equal(notes.at(-1)?.title, `Task completed: ${id}`);
  });

  test("the click's link signs in and lands on the task's detail page", async () => {
    const link = taskPageSignIn(taskdock.signInUrl(), 'shell:42');
    const response = await fetch(link, { redirect: 'manual' });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/tasks/detail?id=shell%3A42');
    assert.match(response.headers.get('set-cookie') ?? '', /HttpOnly/i, 'signed in');
  });
});
