// Browser tests of the UI against a real stack (`npm run serve`), driving Debian's Chromium.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Task } from '@taskdock/shared/contract';
import { isAlive } from '@taskdock/shared/node/processes';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from './browser.ts';
import { screenshots } from './page-tools.ts';
import { type ServeStack, startServe } from './stack.ts';

const taskUrl = (id: string) => `/tasks/detail?id=${encodeURIComponent(id)}`;

/** Nothing wider than the window: every page reads at 1024 px. */
async function assertNoHorizontalOverflow(page: Page, label: string): Promise<void> {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  const viewport = page.viewportSize()?.width ?? 0;
  assert.ok(width <= viewport, `${label} is ${width}px wide in a ${viewport}px window`);
}

describe('Taskdock UI', { timeout: 240_000 }, () => {
  let stack: ServeStack;
  let browser: TestBrowser;
  let page: Page;
  const errors: string[] = [];

  const createTask = async (body: object) => {
    const res = await stack.api<Task>('POST', '/api/tasks', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  const waitForStatus = async (id: string, statuses: string[], timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await stack.api<Task>('GET', `/api/tasks/${encodeURIComponent(id)}`);
      if (statuses.includes(body.status)) return body;
      if (Date.now() > deadline) throw new Error(`${id} stayed ${body.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const go = async (pathname: string) => {
    await page.goto(new URL(pathname, stack.runtime.apiUrl).toString());
  };
  const badge = (status: string) => page.locator('h1 .badge', { hasText: status });

  before(async () => {
    stack = await startServe();
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('pageerror', (err) => errors.push(err.message));
  });

  after(async () => {
    await browser?.close();
    const pids = Object.values(stack?.runtime.pids ?? {});
    await stack?.stop();
    for (const pid of pids) {
      assert.equal(isAlive(pid), false, `process ${pid} of the stack outlived npm run serve`);
    }
  });

  test('a visitor without a session is told how to sign in', async () => {
    await go('/tasks');
    await page
      .getByRole('heading', { name: /Open Taskdock from the app or the link printed by/ })
      .waitFor();
    await screenshots(page, 'signed-out');
  });

  test('uiUrl signs the browser in with an HttpOnly SameSite=Strict cookie', async () => {
    await page.goto(stack.runtime.uiUrl);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    assert.equal(new URL(page.url()).search, '', 'the one-time code is gone from the address');
    const cookies = await browser.context.cookies();
    const session = cookies.find((c) => c.name.startsWith('taskdock_session_'));
    assert.ok(session, 'session cookie set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');

    // The link works once: another browser that opens it is told so.
    const other = await launchBrowser();
    try {
      const otherPage = other.context.pages()[0] ?? (await other.context.newPage());
      await otherPage.goto(stack.runtime.uiUrl);
      await otherPage.getByText('already been used').waitFor();
    } finally {
      await other.close();
    }
  });

  test('submit a shell task from the form and watch it reach 100% without reloading', async () => {
    await go('/tasks/new');
    await page.getByRole('radio', { name: /shell/ }).check();
    // Inline validation: submitting without the required command says so at the field.
    await page.getByRole('button', { name: 'Submit task' }).click();
    await page.getByText('is required').waitFor();

    await page.getByLabel('command').fill('sh');
    await page
      .getByLabel('args')
      .fill(
        '-c\nfor i in 1 2 3 4 5 6 7 8 9 10; do echo "::progress $((i*10)) step $i of 10"; echo "output line $i"; sleep 0.3; done',
      );
    await screenshots(page, 'new-task');
    await page.getByRole('button', { name: 'Submit task' }).click();
    await page.waitForURL(/\/tasks\/detail\?id=shell/);
    // Marks this document: a reload or navigation would lose it.
    await page.evaluate(() => {
      (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });

    const bar = page.getByRole('progressbar', { name: 'Task progress' });
    const seen = new Set<number>();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = Number(await bar.getAttribute('aria-valuenow'));
      seen.add(value);
      if (value === 100) break;
      assert.ok(Date.now() < deadline, `progress stuck at ${value}`);
      await page.waitForTimeout(50);
    }
    assert.ok(
      [...seen].some((v) => v > 0 && v < 100),
      `saw progress on the way: ${[...seen]}`,
    );
    await badge('completed').waitFor();
    assert.equal(
      await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument),
      true,
      'the page was not reloaded',
    );
    await page.getByRole('log', { name: 'Task log' }).getByText('output line 10').waitFor();
    await screenshots(page, 'task-detail');
  });

  test('open a task from the list and read its logs', async () => {
    await go('/tasks');
    const row = page.locator('tr[data-task-id^="shell:"]').first();
    await row.waitFor();
    await row.getByRole('link').click();
    await page.waitForURL(/\/tasks\/detail/);
    const log = page.getByRole('log', { name: 'Task log' });
    await log.getByText('output line 1', { exact: true }).waitFor();
    await log.getByText('output line 10').waitFor();
  });

  test('the task list updates live, searches and pages', async () => {
    await go('/tasks');
    await page.locator('tr[data-task-id]').first().waitFor();
    const created = await createTask({
      workflow: 'sleep',
      params: { ms: 200 },
      owner: 'live-check',
    });
    // No reload: the row arrives through /api/events and finishes in place.
    const row = page.locator(`tr[data-task-id="${created.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.locator('.badge', { hasText: 'completed' }).waitFor({ timeout: 10_000 });

    await page.getByRole('searchbox', { name: /Search by task id/ }).fill(created.id);
    await page.waitForURL(/q=/);
    await page.waitForFunction(
      (id) =>
        [...document.querySelectorAll('tr[data-task-id]')].every(
          (r) => r.getAttribute('data-task-id') === id,
        ),
      created.id,
    );
    await screenshots(page, 'tasks-search');
    await go('/tasks');
    await page.locator('tr[data-task-id]').first().waitFor();
    await screenshots(page, 'tasks');
  });

  test('cancel a running task, and bulk-cancel a selection', async () => {
    const task = await createTask({ workflow: 'sleep', params: { ms: 60_000, steps: 60 } });
    await waitForStatus(task.id, ['running']);
    await go(taskUrl(task.id));
    await badge('running').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    // Asks first: keeping it keeps it running.
    const confirm = page.getByRole('dialog', { name: `Cancel task ${task.id}?` });
    await confirm.getByRole('button', { name: 'Keep task' }).click();
    await confirm.waitFor({ state: 'hidden' });
    assert.equal((await waitForStatus(task.id, ['running'])).status, 'running');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await confirm.getByRole('button', { name: 'Cancel task' }).click();
    await badge('cancelled').waitFor();
    assert.equal((await waitForStatus(task.id, ['cancelled'])).status, 'cancelled');

    const a = await createTask({
      workflow: 'sleep',
      params: { ms: 60_000, steps: 60 },
      owner: 'bulk',
    });
    const b = await createTask({
      workflow: 'sleep',
      params: { ms: 60_000, steps: 60 },
      owner: 'bulk',
    });
    await Promise.all([waitForStatus(a.id, ['running']), waitForStatus(b.id, ['running'])]);
    await go('/tasks?owner=bulk');
    for (const id of [a.id, b.id]) {
      await page.getByRole('checkbox', { name: `Select task ${id}` }).check();
    }
    await page
      .getByRole('toolbar', { name: 'Selected tasks' })
      .getByRole('button', { name: /Cancel/ })
      .click();
    await page
      .getByRole('dialog', { name: 'Cancel 2 tasks?' })
      .getByRole('button', { name: 'Cancel 2 tasks' })
      .click();
    await page.getByText('Cancelled 2 tasks').waitFor();
    await Promise.all([waitForStatus(a.id, ['cancelled']), waitForStatus(b.id, ['cancelled'])]);
    await page.locator(`tr[data-task-id="${a.id}"] .badge`, { hasText: 'cancelled' }).waitFor();
  });

  test('retry a failed task', async () => {
    // Fails the first time, succeeds the second (a marker file in the stack's data dir).
    const marker = path.join(stack.dataDir, `retry-${Date.now()}`);
    const task = await createTask({
      workflow: 'shell',
      params: {
        command: 'sh',
        args: [
          '-c',
          `if [ -f '${marker}' ]; then echo second try; else touch '${marker}'; echo first try failed >&2; exit 3; fi`,
        ],
      },
      maxAttempts: 1,
    });
    await waitForStatus(task.id, ['failed']);
    await go(taskUrl(task.id));
    await badge('failed').waitFor();
    await page.getByText('first try failed').first().waitFor();
    await screenshots(page, 'task-failed');
    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    await badge('completed').waitFor({ timeout: 15_000 });
    await page.getByRole('log', { name: 'Task log' }).getByText('second try').waitFor();
  });

  test('attempts are listed with their worker and outcome, each with its own logs', async () => {
    const marker = path.join(stack.dataDir, `attempts-${Date.now()}`);
    const task = await createTask({
      workflow: 'shell',
      params: {
        command: 'sh',
        args: [
          '-c',
          `if [ -f '${marker}' ]; then echo run two ok; else touch '${marker}'; echo run one broke; exit 4; fi`,
        ],
      },
      maxAttempts: 2,
      backoffMs: 0,
    });
    await waitForStatus(task.id, ['completed']);
    await go(taskUrl(task.id));
    await badge('completed').waitFor();
    const rows = page.getByTestId('attempt-row');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="attempt-row"]').length === 2,
    );
    assert.match((await rows.nth(0).innerText()).replace(/\s+/g, ' '), /^1 failed .*EXIT_CODE/);
    assert.match((await rows.nth(1).innerText()).replace(/\s+/g, ' '), /^2 completed/);
    const log = page.getByRole('log', { name: 'Task log' });
    await log.getByText('run two ok').waitFor();
    // Each attempt's lines follow its own marker.
    const order = await log.evaluate((el) =>
      [...el.children]
        .map((c) => c.textContent ?? '')
        .filter((text) => /Attempt \d|run one broke|run two ok/.test(text))
        .map((text) => text.replace(/^.*(Attempt \d|run one broke|run two ok).*$/, '$1')),
    );
    assert.deepEqual(order, ['Attempt 1', 'run one broke', 'Attempt 2', 'run two ok']);
    await screenshots(page, 'task-attempts');
  });

  test('the dashboard shows counts, queues and workers', async () => {
    // Some work in flight, so the picture shows what the dashboard is for.
    const batch = Array.from({ length: 24 }, (_, i) => ({
      workflow: 'sleep',
      params: { ms: 1500 + (i % 6) * 900, steps: 5, ...(i % 7 === 3 ? { failAt: 3 } : {}) },
      owner: ['ann', 'bob', 'ci'][i % 3],
      maxAttempts: 1,
    }));
    const bulk = await stack.api<{ items: unknown[] }>('POST', '/api/tasks/bulk', { tasks: batch });
    assert.equal(bulk.status, 201);
    await go('/');
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByRole('heading', { name: 'Queues' }).waitFor();
    await page.locator('table').getByText('shell', { exact: true }).first().waitFor();
    await page.getByRole('heading', { name: /Workers/ }).waitFor();
    await page
      .locator('.stat', { hasText: 'Running' })
      .locator('.stat-value', { hasText: /^[1-9]/ })
      .waitFor();
    await page.waitForTimeout(2500);
    await screenshots(page, 'dashboard');
  });

  test('services show status, pid, uptime and their last lines', async () => {
    await go('/services');
    for (const name of ['redis', 'worker', 'backend']) {
      const card = page.locator(`section[data-service="${name}"]`);
      await card.locator('.badge', { hasText: 'running' }).waitFor();
      await card.getByText(String(stack.runtime.pids[name]), { exact: true }).waitFor();
    }
    // /api/services does not say where redis-server came from, so the page claims nothing.
    assert.doesNotMatch(await page.locator('main').innerText(), /bundled/i);
    // The backend's start probe of its Redis: version, policy, persistence, topology.
    const probe = page.locator('section[data-redis-server]');
    await probe.getByText('noeviction', { exact: true }).waitFor();
    await probe.getByText(/^\d+\.\d+\.\d+$/).waitFor();
    await probe.getByText('One server', { exact: true }).waitFor();
    await probe.getByText('AOF on', { exact: true }).waitFor();
    await screenshots(page, 'services');
  });

  test('filter the log viewer by service and level, search with highlight', async () => {
    await go('/logs');
    const rows = page.locator('.log-row');
    await rows.first().waitFor();
    const services = async () =>
      new Set(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-service'))));
    assert.ok((await services()).size > 1, 'all services to begin with');
    await screenshots(page, 'logs');

    await page.getByLabel('Service', { exact: true }).selectOption('redis');
    await page.waitForURL(/service=redis/);
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.log-row')].every(
        (e) => e.getAttribute('data-service') === 'redis',
      ),
    );
    assert.deepEqual([...(await services())], ['redis']);

    await page.getByLabel('Service', { exact: true }).selectOption('worker');
    await page.waitForFunction(
      () =>
        document.querySelectorAll('.log-row').length > 0 &&
        [...document.querySelectorAll('.log-row')].every(
          (e) => e.getAttribute('data-service') === 'worker',
        ),
    );

    await page.getByLabel('Service', { exact: true }).selectOption('');
    await page.getByRole('searchbox', { name: 'Search' }).fill('ready');
    await page.locator('.log-row mark').first().waitFor();
    const texts = await rows.evaluateAll((els) =>
      els.map((e) => e.textContent?.toLowerCase() ?? ''),
    );
    assert.ok(texts.length > 0 && texts.every((t) => t.includes('ready')), 'only matching lines');
    await screenshots(page, 'logs-search');
  });

  test('the log viewer holds 100,000 lines and renders only those in view', async (t) => {
    const services = ['redis', 'worker', 'backend', 'supervisor'];
    const levels = ['info', 'info', 'info', 'warn', 'debug', 'error'];
    const started = Date.parse('2026-01-01T00:00:00Z');
    let body = 'retry: 60000\n\n';
    for (let seq = 1; seq <= 100_000; seq++) {
      const line = {
        seq,
        ts: new Date(started + seq * 7).toISOString(),
        service: services[seq % services.length],
        stream: 'stdout',
        level: levels[seq % levels.length],
        text: `synthetic line ${seq} with some text to make it look like a real log message`,
      };
      body += `id: ${seq}\nevent: log\ndata: ${JSON.stringify(line)}\n\n`;
    }
    let served = false;
    await page.route('**/api/logs/stream*', (route) => {
      // The whole backlog once; reconnects get an empty stream.
      const first = !served;
      served = true;
      return route.fulfill({
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body: first ? body : 'retry: 60000\n\n',
      });
    });
    // The backfill of a filtered view would mix in the real lines: none here.
    const recent = (url: URL) => url.pathname === '/api/logs';
    await page.route(recent, (route) => route.fulfill({ json: { supervised: true, lines: [] } }));
    try {
      await go('/logs');
      const loadStart = Date.now();
      await page.locator('.log-status', { hasText: '100,000 lines' }).waitFor({ timeout: 30_000 });
      t.diagnostic(`100,000 lines streamed in and shown in ${Date.now() - loadStart} ms`);
      const scroller = page.getByRole('log', { name: 'Log lines' });
      const rowsInDom = () => page.locator('.log-row').count();
      assert.ok(
        (await rowsInDom()) < 120,
        `only the rows in view are in the DOM: ${await rowsInDom()}`,
      );
      await page.getByText('synthetic line 100000 ').waitFor();

      // Jumps across the whole log each render within a frame or two.
      for (const target of [0, 25_000, 50_000, 99_000, 12_345]) {
        const ms = await scroller.evaluate(async (el, row) => {
          const t0 = performance.now();
          el.scrollTop = row * 20;
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          return performance.now() - t0;
        }, target);
        await page
          .getByText(`synthetic line ${target + 1} `)
          .first()
          .waitFor({ timeout: 2000 });
        t.diagnostic(`jump to line ${target}: ${ms.toFixed(1)} ms to the second frame`);
        assert.ok(ms < 250, `scroll to ${target} took ${ms.toFixed(1)} ms`);
      }
      assert.ok((await rowsInDom()) < 120);

      // Searching 100,000 lines narrows the view at once.
      await page.getByRole('searchbox', { name: 'Search' }).fill('line 77777 ');
      await page.locator('.log-status', { hasText: '1 line of 100,000 match' }).waitFor();
      await page.locator('.log-row mark', { hasText: 'line 77777 ' }).waitFor();
      await page.getByRole('searchbox', { name: 'Search' }).fill('');
      await page.getByLabel('Service', { exact: true }).selectOption('redis');
      await page.locator('.log-status', { hasText: '25,000 lines of 100,000' }).waitFor();
    } finally {
      await page.unroute('**/api/logs/stream*');
      await page.unroute(recent);
    }
  });

  test('keyboard: g then a letter moves between pages', async () => {
    await go('/');
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.keyboard.press('g');
    await page.keyboard.press('l');
    await page.waitForURL(/\/logs$/);
    await page.keyboard.press('g');
    await page.keyboard.press('t');
    await page.waitForURL(/\/tasks$/);
  });

  test('every page reads at 1024 px wide', async () => {
    await page.setViewportSize({ width: 1024, height: 768 });
    try {
      const { body } = await stack.api<{ items: Task[] }>('GET', '/api/tasks?limit=1');
      for (const pathname of [
        '/',
        '/tasks',
        '/tasks/new',
        '/schedules',
        '/services',
        '/logs',
        taskUrl(body.items[0]?.id ?? ''),
      ]) {
        await go(pathname);
        await page.locator('h1').first().waitFor();
        await page.waitForTimeout(300);
        await assertNoHorizontalOverflow(page, pathname);
      }
      await go('/');
      await page.getByRole('heading', { name: 'Queues' }).waitFor();
      await screenshots(page, 'dashboard-1024');
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  test('no script errors on any page', () => {
    assert.deepEqual(errors, []);
  });
});
