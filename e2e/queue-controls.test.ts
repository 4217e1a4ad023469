// Queue controls on the dashboard against a real stack: pause a queue and see its tasks wait,
// resume it and see them run; retry every failed task of one workflow, confirmed with its count.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BulkCreateResult, QueueList, Task, TaskList } from '@taskdock/shared/contract';
import type { Page } from 'playwright-core';
import type { TestBrowser } from './browser.ts';
import { screenshots, seriousViolations } from './page-tools.ts';
import { closeUi, openSignedInUi } from './signed-in-ui.ts';
import type { ServeStack } from './stack.ts';

describe('Queue controls', { timeout: 240_000 }, () => {
  let stack: ServeStack;
  let browser: TestBrowser;
  let page: Page;
  const errors: string[] = [];

  const go = (pathname: string) => page.goto(new URL(pathname, stack.runtime.apiUrl).toString());
  const row = (workflow: string) => page.locator(`tr[data-queue="${workflow}"]`);
  const dialog = () => page.getByRole('dialog');
  const createTasks = async (tasks: object[]) => {
    const res = await stack.api<BulkCreateResult>('POST', '/api/tasks/bulk', { tasks });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.items.map((i) => i.task);
  };
  const getTask = async (id: string) =>
    (await stack.api<Task>('GET', `/api/tasks/${encodeURIComponent(id)}`)).body;
  const waitForStatus = async (ids: string[], status: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (const id of ids) {
      while ((await getTask(id)).status !== status) {
        if (Date.now() > deadline) throw new Error(`${id} is ${(await getTask(id)).status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const paused = async (workflow: string) =>
    (await stack.api<QueueList>('GET', '/api/queues')).body.items.find(
      (q) => q.workflow === workflow,
    )?.paused;

  before(async () => {
    ({ stack, browser, page } = await openSignedInUi(errors));
  });

  after(() => closeUi({ stack, browser }));

  test('pause a queue: its tasks wait, the lists say so; resume: they run', async () => {
    await row('sleep').locator('.badge', { hasText: 'active' }).waitFor();
    await row('sleep').getByRole('button', { name: 'Pause sleep' }).click();
    await dialog().getByRole('heading', { name: 'Pause sleep?' }).waitFor();
    assert.match(await dialog().innerText(), /0 queued tasks will wait/);
    await dialog().getByRole('button', { name: 'Pause sleep' }).click();
    await row('sleep').locator('.badge', { hasText: 'paused' }).waitFor();
    assert.equal(await paused('sleep'), true);
    // The queue table above says so too.
    await page
      .locator('tr', { has: page.getByRole('link', { name: 'sleep' }) })
      .locator('.badge', { hasText: 'paused' })
      .first()
      .waitFor();

    const tasks = await createTasks(
      [1, 2, 3].map(() => ({ workflow: 'sleep', params: { ms: 0 } })),
    );
    await go('/tasks?workflow=sleep');
    await page.getByText('Paused: sleep').waitFor();
    assert.equal(
      await page.locator('#filter-workflow option:checked').innerText(),
      'sleep (paused)',
    );
    for (const task of tasks) {
      await page.locator(`tr[data-task-id="${task.id}"] .badge`, { hasText: 'queued' }).waitFor();
    }
    await page.waitForTimeout(1500);
    for (const task of tasks) assert.equal((await getTask(task.id)).status, 'queued', 'it waits');
    await screenshots(page, 'tasks-paused-queue');
    await go(`/tasks/detail?id=${encodeURIComponent(tasks[0]?.id as string)}`);
    await page.locator('h1 .badge', { hasText: 'queued' }).waitFor();
    await page.getByText('Paused: sleep').waitFor();

    await go('/');
    await row('sleep').getByRole('button', { name: 'Resume sleep' }).click();
    assert.match(await dialog().innerText(), /3 queued tasks of sleep can start again/);
    await dialog().getByRole('button', { name: 'Resume sleep' }).click();
    await row('sleep').locator('.badge', { hasText: 'active' }).waitFor();
    await go('/tasks?workflow=sleep');
    for (const task of tasks) {
      await page
        .locator(`tr[data-task-id="${task.id}"] .badge`, { hasText: 'completed' })
        .waitFor({ timeout: 20_000 });
    }
    assert.equal(await page.getByText('Paused: sleep').count(), 0);
  });

  test('retry all failed of a workflow: confirmed with its count, only that workflow', async () => {
    const failing = await createTasks(
      [1, 2, 3].map(() => ({ workflow: 'sleep', params: { ms: 1, failAt: 1 } })),
    );
    const [shell] = await createTasks([
      { workflow: 'shell', params: { command: 'sh', args: ['-c', 'exit 3'] } },
    ]);
    await waitForStatus([...failing.map((t) => t.id), shell?.id as string], 'failed');
    // Paused, so the retried tasks stay visibly queued.
    await stack.api('POST', '/api/queues/sleep/pause');

    await go('/');
    const retry = row('sleep').getByRole('button', { name: 'Retry failed sleep tasks' });
    await retry.filter({ hasText: '(3)' }).waitFor();
    await screenshots(page, 'dashboard-queue-controls');
    assert.deepEqual(await seriousViolations(page), [], 'dashboard with queue controls');
    await retry.click();
    await dialog().getByRole('heading', { name: 'Retry 3 failed sleep tasks?' }).waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'retry-all-failed confirmation');
    await dialog().getByRole('button', { name: 'Retry 3' }).click();
    await page.getByText('Re-queued 3 tasks').waitFor();

    await go('/tasks?workflow=sleep&status=queued');
    for (const task of failing) {
      await page.locator(`tr[data-task-id="${task.id}"] .badge`, { hasText: 'queued' }).waitFor();
    }
    const queued = (await stack.api<TaskList>('GET', '/api/tasks?workflow=sleep&status=queued'))
      .body;
    assert.deepEqual(
      queued.items.map((t) => t.id).sort(),
      failing.map((t) => t.id).sort(),
      'exactly the failed ones',
    );
    assert.equal((await getTask(shell?.id as string)).status, 'failed', 'other workflows are left');
    await stack.api('POST', '/api/queues/sleep/resume');
    await waitForStatus(
      failing.map((t) => t.id),
      'failed',
    );
    assert.deepEqual(errors, [], 'no page errors');
  });
});
