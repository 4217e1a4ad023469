// The task list's "select all matching" over a search of three pages, cancelled with its count
// confirmed and progress shown; and edit-and-retry of a failed task with the new params run.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BulkCreateResult, Task, TaskList, TaskLogs } from '@taskdock/shared/contract';
import type { Page } from 'playwright-core';
import type { TestBrowser } from './browser.ts';
import { screenshots, seriousViolations } from './page-tools.ts';
import { closeUi, openSignedInUi } from './signed-in-ui.ts';
import type { ServeStack } from './stack.ts';

describe('Bulk actions and edit-and-retry', { timeout: 240_000 }, () => {
  let stack: ServeStack;
  let browser: TestBrowser;
  let page: Page;
  const errors: string[] = [];

  const go = (pathname: string) => page.goto(new URL(pathname, stack.runtime.apiUrl).toString());
  const dialog = () => page.getByRole('dialog');
  const createTasks = async (tasks: object[]) => {
    const res = await stack.api<BulkCreateResult>('POST', '/api/tasks/bulk', { tasks });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.items.map((i) => i.task);
  };
  const getTask = async (id: string) =>
    (await stack.api<Task>('GET', `/api/tasks/${encodeURIComponent(id)}`)).body;
  const listAll = async (query: string) => {
    const items: Task[] = [];
    let cursor: string | null = null;
    do {
      const page: TaskList = (
        await stack.api<TaskList>(
          'GET',
          `/api/tasks?${query}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        )
      ).body;
      items.push(...(page.items as Task[]));
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  };

  before(async () => {
    ({ stack, browser, page } = await openSignedInUi(errors));
  });

  after(() => closeUi({ stack, browser }));

  test('select all tasks matching a search across three pages and cancel them', async () => {
    // Scheduled an hour ahead: they wait, and stay until the bulk cancel.
    const later = { workflow: 'sleep', params: { ms: 0 }, delayMs: 3_600_000 };
    const matching = await createTasks(
      Array.from({ length: 130 }, () => ({ ...later, source: 'e2e-bulk-run' })),
    );
    const others = await createTasks(
      Array.from({ length: 4 }, () => ({ ...later, source: 'e2e-keep' })),
    );

    await go('/tasks?q=e2e-bulk-run');
    const rows = page.locator('tbody tr[data-task-id]');
    await rows.nth(49).waitFor();
    assert.equal(await rows.count(), 50, 'one page of 50; two more follow');
    await page.getByRole('checkbox', { name: 'Select all tasks on this page' }).check();
    await page.getByText('All 50 tasks shown are selected; more match this search.').waitFor();
    await page.getByRole('button', { name: 'Select all matching' }).click();
    const bar = page.getByRole('toolbar', { name: 'All matching tasks' });
    await bar.getByText('All 130 matching tasks selected').waitFor();
    await screenshots(page, 'tasks-select-all-matching');
    await bar.getByRole('button', { name: 'Cancel 130' }).click();
    await dialog().getByRole('heading', { name: 'Cancel 130 tasks?' }).waitFor();
    assert.match(await dialog().innerText(), /“e2e-bulk-run”/);
    await dialog().getByRole('button', { name: 'Cancel 130' }).click();
    await page.getByText('Cancelled 130 tasks').waitFor({ timeout: 30_000 });

    const after = await listAll('q=e2e-bulk-run');
    assert.equal(after.length, 130);
    assert.ok(
      after.every((t) => t.status === 'cancelled'),
      'every matching task is cancelled',
    );
    assert.deepEqual(new Set(after.map((t) => t.id)), new Set(matching.map((t) => t.id)));
    for (const task of others) assert.equal((await getTask(task.id)).status, 'scheduled');
    // The list shows it without a manual reload.
    await page.locator('tbody tr[data-task-id] .badge', { hasText: 'cancelled' }).first().waitFor();
    assert.equal(
      await page.locator('tbody tr[data-task-id] .badge', { hasText: 'scheduled' }).count(),
      0,
    );
  });

  test('edit and retry a failed task: the form holds its params, the new ones run', async () => {
    const [task] = await createTasks([
      { workflow: 'shell', params: { command: 'sh', args: ['-c', 'echo first try; exit 3'] } },
    ]);
    const id = task?.id as string;
    for (let i = 0; (await getTask(id)).status !== 'failed'; i++) {
      assert.ok(i < 200, 'the task failed');
      await new Promise((r) => setTimeout(r, 100));
    }
    await go(`/tasks/detail?id=${encodeURIComponent(id)}`);
    await page.locator('h1 .badge', { hasText: 'failed' }).waitFor();
    await page.getByRole('button', { name: 'Edit and retry' }).click();
    const form = dialog();
    await form.getByRole('heading', { name: 'Edit and retry shell task' }).waitFor();
    const args = form.locator('#param-args');
    assert.equal(await args.inputValue(), '-c\necho first try; exit 3', 'the task’s own params');

    // A required field left empty is caught at its field, and nothing is retried.
    await form.locator('#param-command').fill('');
    await form.getByRole('button', { name: 'Retry with these params' }).click();
    await form.locator('#param-command[aria-invalid="true"]').waitFor();
    assert.equal((await getTask(id)).status, 'failed');

    await form.locator('#param-command').fill('sh');
    await args.fill('-c\necho edited run');
    await screenshots(page, 'task-edit-retry');
    assert.deepEqual(await seriousViolations(page), [], 'edit-and-retry form');
    await form.getByRole('button', { name: 'Retry with these params' }).click();
    await page.getByText('Retrying with the edited params').waitFor();
    await page.locator('h1 .badge', { hasText: 'completed' }).waitFor({ timeout: 20_000 });
    await page.getByText('edited run', { exact: true }).first().waitFor();
    await page.getByText('Params edited before retrying: args changed').waitFor();

    const done = await getTask(id);
    assert.deepEqual(done.params, { command: 'sh', args: ['-c', 'echo edited run'] });
    assert.equal((done.result as { stdoutTail: string }).stdoutTail, 'edited run');
    const logs = (await stack.api<TaskLogs>('GET', `/api/tasks/${encodeURIComponent(id)}/logs`))
      .body;
    assert.ok(
      logs.lines.some((l) => l.text === 'first try'),
      'the first attempt’s log stays',
    );
    assert.deepEqual(errors, [], 'no page errors');
  });
});
