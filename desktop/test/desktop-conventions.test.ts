import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { ServiceInfo, TaskEvent } from '@taskdock/shared/contract';
import { readSse } from '@taskdock/shared/node/sse-reader';
import { loadDesktopConfig } from '../src/config.ts';
import { autoUpdateOff, scheduleUpdateChecks } from '../src/shell/auto-update.ts';
import { TASK_PAGE_PATH, taskIdOfPage, taskPageSignIn } from '../src/shell/task-page.ts';
import {
  type LoginItems,
  runningBadgeText,
  type TrayItem,
  trayItems,
  trayState,
  trayTooltip,
} from '../src/shell/tray-menu.ts';
import { type Notifier, WatchedTasks } from '../src/shell/watched-tasks.ts';
import { splashUrl, unusedSteps } from '../src/splash.ts';
import { waitFor } from './helpers/process.ts';
import { REPO_ROOT } from './helpers/stack.ts';

// The logic of the Electron shell's conventions under plain Node, with fakes of the small
// interfaces the Electron modules (desktop/src/electron/) implement.

type Note = Parameters<Notifier['notify']>[0];

function fakeNotifier() {
  const notes: Note[] = [];
  return { notes, notifier: { notify: (note: Note) => void notes.push(note) } };
}

const event = (type: TaskEvent['type'], taskId: string, extra: Partial<TaskEvent> = {}) =>
  ({
    type,
    taskId,
    workflow: 'shell',
    ts: new Date().toISOString(),
    status: type === 'progress' ? 'running' : type,
    ...extra,
  }) as TaskEvent;

describe('task feed', () => {
  test('SSE frames split anywhere across chunks, CRLF or LF; comments and retry skipped', async () => {
    const text =
      'retry: 2000\n\n: ping\n\nid: 1-0\nevent: completed\ndata: {"a":1}\n\r\nid: 2-0\r\nevent: failed\r\ndata: {"b":2}\r\n\r\n';
    const bytes = new TextEncoder().encode(text);
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += 3) yield bytes.subarray(i, i + 3);
    }
    const messages = [];
    for await (const message of readSse(chunks())) messages.push(message);
    assert.deepEqual(messages, [
      { id: '1-0', event: 'completed', data: '{"a":1}' },
      { id: '2-0', event: 'failed', data: '{"b":2}' },
    ]);
  });
});

describe('notifications of watched tasks', () => {
  test('a watched task that completes or fails: one notification; its click opens it', () => {
    const { notes, notifier } = fakeNotifier();
    const opened: string[] = [];
    const watched = new WatchedTasks({ notifier, openTask: (id) => opened.push(id) });
    watched.watch('shell:1');
    watched.watch('shell:2');
    watched.handle(event('running', 'shell:1'));
    watched.handle(event('progress', 'shell:1'));
    assert.equal(notes.length, 0, 'nothing before the end');
    watched.handle(event('completed', 'shell:1'));
    watched.handle(event('failed', 'shell:2', { error: { message: 'exit code 3' } }));
    assert.deepEqual(
      notes.map(({ title, body }) => ({ title, body })),
      [
        { title: 'Task completed: shell:1', body: 'shell finished.' },
        { title: 'Task failed: shell:2', body: 'exit code 3' },
      ],
    );
    notes[1]?.onClick();
    assert.deepEqual(opened, ['shell:2']);
    // Announced once: a second end (a retry nobody opened again) is not.
    watched.handle(event('completed', 'shell:1'));
    assert.equal(notes.length, 2);
  });

  test('not for unwatched tasks, cancels, retried attempts, or a task on screen', () => {
    const { notes, notifier } = fakeNotifier();
    const watched = new WatchedTasks({
      notifier,
      openTask: () => {},
      isShowing: (id) => id === 'shell:seen',
    });
    watched.handle(event('completed', 'shell:other'));
    watched.watch('shell:cancel');
    watched.handle(event('cancelled', 'shell:cancel'));
    watched.watch('shell:retry');
    watched.handle(event('failed', 'shell:retry', { status: 'scheduled' }));
    watched.watch('shell:seen');
    watched.handle(event('completed', 'shell:seen'));
    watched.watch('shell:removed');
    watched.handle(event('removed', 'shell:removed', { status: undefined }));
    assert.equal(notes.length, 0);
    assert.equal(watched.isWatched('shell:retry'), true, 'still watched for its last attempt');
    assert.equal(watched.isWatched('shell:removed'), false);
  });

  test('keeps at most `max` tasks, forgetting the oldest watched first', () => {
    const { notifier } = fakeNotifier();
    const watched = new WatchedTasks({ notifier, openTask: () => {}, max: 2 });
    watched.watch('a');
    watched.watch('b');
    watched.watch('a');
    watched.watch('c');
    assert.deepEqual(
      ['a', 'b', 'c'].map((id) => watched.isWatched(id)),
      [true, false, true],
    );
  });

  test('the window watches what it shows: task detail pages of its own origin', () => {
    const origin = 'http://127.0.0.1:4000';
    assert.equal(taskIdOfPage(`${origin}/tasks/detail?id=shell%3A7`, origin), 'shell:7');
    assert.equal(taskIdOfPage(`${origin}/tasks?id=shell%3A7`, origin), undefined);
    assert.equal(taskIdOfPage('http://127.0.0.1:4001/tasks/detail?id=x', origin), undefined);
    assert.equal(taskIdOfPage(`${origin}/tasks/detail`, origin), undefined);
    assert.equal(taskIdOfPage('not a url', origin), undefined);
    // The UI's page is where the shell looks for it.
    const page = path.join(REPO_ROOT, 'frontend', 'app', '(dashboard)', TASK_PAGE_PATH, 'page.tsx');
    assert.ok(existsSync(page), `${page} exists`);
  });

  test("a notification's click signs in on the task's page", () => {
    const url = new URL(taskPageSignIn('http://127.0.0.1:4000/?login=abc.def', 'shell:7'));
    assert.equal(url.pathname, '/tasks/detail');
    assert.equal(url.searchParams.get('id'), 'shell:7');
    assert.equal(url.searchParams.get('login'), 'abc.def');
  });
});

const service = (name: ServiceInfo['name'], status: ServiceInfo['status']) =>
  ({ name, status, restarts: 0 }) as ServiceInfo;

function fakeLoginItems(initial: boolean): LoginItems & { sets: boolean[] } {
  let open = initial;
  const sets: boolean[] = [];
  return {
    sets,
    openAtLogin: () => open,
    setOpenAtLogin: (value) => {
      open = value;
      sets.push(value);
    },
  };
}

const actions = { openWindow: () => {}, openLogs: () => {}, openData: () => {}, quit: () => {} };
const labels = (items: TrayItem[]) => items.map((i) => (i.kind === 'separator' ? '-' : i.label));

describe('tray', () => {
  test('the running count shows in the tooltip, the menu and the badge', () => {
    const services = [service('redis', 'running'), service('backend', 'running')];
    const state = trayState(false, services);
    assert.equal(state, 'running');
    assert.equal(
      trayTooltip(state, services, 2),
      'Taskdock: running, 2 tasks running (redis: running, backend: running)',
    );
    assert.equal(trayTooltip(state, [], 1), 'Taskdock: running, 1 task running');
    assert.equal(trayTooltip('starting', [], undefined), 'Taskdock: starting', 'not known yet');
    assert.ok(labels(trayItems(services, 3, undefined, actions)).includes('3 tasks running'));
    assert.equal(runningBadgeText(3), '3');
    assert.equal(runningBadgeText(0), '', 'no badge at 0');
    assert.equal(trayState(true, services), 'stopped');
    assert.equal(trayState(false, [service('worker', 'failed')]), 'degraded');
    assert.equal(trayState(false, [service('redis', 'unused')]), 'running');
  });

  test('"Open at login" is a checkbox showing the OS setting; a click flips it', () => {
    const login = fakeLoginItems(false);
    const find = () => {
      const item = trayItems([], 0, login, actions).find((i) => i.kind === 'checkbox');
      assert.ok(item?.kind === 'checkbox');
      return item;
    };
    const item = find();
    assert.equal(item.label, 'Open at login');
    assert.equal(item.checked, false);
    item.run();
    assert.deepEqual(login.sets, [true]);
    assert.equal(find().checked, true, 'drawn again: checked');
    find().run();
    assert.deepEqual(login.sets, [true, false]);
    // Where the OS has no login items (Linux), there is no such row.
    assert.ok(!labels(trayItems([], 0, undefined, actions)).includes('Open at login'));
    assert.deepEqual(labels(trayItems([], undefined, login, actions)), [
      '-',
      'Open Taskdock',
      'Open logs folder',
      'Open data folder',
      '-',
      'Open at login',
      '-',
      'Quit Taskdock',
    ]);
  });
});

describe('auto-update', () => {
  test('off in development and with TASKDOCK_AUTO_UPDATE=0; a bad value is reported', () => {
    const on = loadDesktopConfig({ TASKDOCK_DATA_DIR: '/tmp/td-conv' });
    assert.equal(on.autoUpdate, true);
    const off = loadDesktopConfig({ TASKDOCK_DATA_DIR: '/tmp/td-conv', TASKDOCK_AUTO_UPDATE: '0' });
    assert.equal(autoUpdateOff({ packaged: true, enabled: on.autoUpdate }), undefined);
    assert.equal(
      autoUpdateOff({ packaged: true, enabled: off.autoUpdate }),
      'TASKDOCK_AUTO_UPDATE=0',
    );
    assert.match(autoUpdateOff({ packaged: false, enabled: true }) ?? '', /not packaged/);
    assert.throws(
      () => loadDesktopConfig({ TASKDOCK_DATA_DIR: '/tmp/td-conv', TASKDOCK_AUTO_UPDATE: 'yes' }),
      /TASKDOCK_AUTO_UPDATE must be 1 or 0, got "yes"/,
    );
  });

  test('checks at start and then every interval; a failed check waits for the next', async () => {
    let checks = 0;
    const logged: string[] = [];
    const schedule = scheduleUpdateChecks({
      updater: {
        check: async () => {
          checks += 1;
          if (checks === 2) throw new Error('getaddrinfo ENOTFOUND github.com');
        },
      },
      log: (message) => logged.push(message),
      intervalMs: 40,
    });
    try {
      assert.equal(checks, 1, 'at once');
      await waitFor('two more checks', () => checks >= 3);
      assert.deepEqual(logged, ['update check failed: getaddrinfo ENOTFOUND github.com']);
    } finally {
      schedule.stop();
    }
    const after = checks;
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(checks, after, 'no check after stop');
  });
});

describe('splash in memory mode', () => {
  test('redis and worker rows say "not used in memory mode" and why', () => {
    const reason = 'not used in memory mode: TASKDOCK_STORE=memory';
    const services = [
      { ...service('redis', 'unused'), message: reason },
      { ...service('worker', 'unused'), message: reason },
      service('backend', 'starting'),
    ];
    assert.deepEqual(unusedSteps(services), [
      { service: 'redis', state: 'unused', text: reason },
      { service: 'worker', state: 'unused', text: reason },
    ]);
    assert.deepEqual(unusedSteps([service('redis', 'running')]), []);
    const html = decodeURIComponent(splashUrl(['redis']).split(',')[1] ?? '');
    assert.match(html, /li\[data-state="unused"\]/, 'the unused state has its look');
  });
});
