// Every page, light and dark, against axe-core's serious and critical rules; and every control
// that Tab reaches shows where the focus is.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Task } from '@taskdock/shared/contract';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from './browser.ts';
import { seriousViolations, THEMES } from './page-tools.ts';
import { type ServeStack, startServe } from './stack.ts';

describe('Accessibility', { timeout: 300_000 }, () => {
  let stack: ServeStack;
  let browser: TestBrowser;
  let page: Page;
  const tasks: Record<string, Task> = {};
  /** Every page's findings, so one run lists them all. */
  let found: string[] = [];

  const go = (pathname: string) => page.goto(new URL(pathname, stack.runtime.apiUrl).toString());
  const bothThemes = async (label: string) => {
    for (const scheme of THEMES) {
      await page.emulateMedia({ colorScheme: scheme });
      // Colours settle (the browser reduces motion, but a transition may have started).
      await page.waitForTimeout(300);
      for (const line of await seriousViolations(page)) found.push(`${label} (${scheme}): ${line}`);
    }
    await page.emulateMedia({ colorScheme: null });
  };
  const waitForStatus = async (id: string, status: string) => {
    for (let i = 0; i < 200; i++) {
      const { body } = await stack.api<Task>('GET', `/api/tasks/${encodeURIComponent(id)}`);
      if (body.status === status) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${id} never became ${status}`);
  };

  before(async () => {
    stack = await startServe();
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    // Something in every state the pages draw: done, failed, running, and a schedule.
    const create = async (key: string, body: object) => {
      const res = await stack.api<Task>('POST', '/api/tasks', body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      tasks[key] = res.body;
    };
    await create('done', { workflow: 'shell', params: { command: 'echo', args: ['hello'] } });
    await create('failed', { workflow: 'sleep', params: { ms: 10, steps: 2, failAt: 2 } });
    await create('running', { workflow: 'sleep', params: { ms: 120_000, steps: 100 } });
    const schedule = await stack.api('PUT', '/api/schedules/nightly', {
      workflow: 'sleep',
      pattern: '0 3 * * *',
      tz: 'Europe/Paris',
      params: { ms: 10 },
    });
    assert.equal(schedule.status, 200);
    await Promise.all([
      waitForStatus(tasks.done?.id as string, 'completed'),
      waitForStatus(tasks.failed?.id as string, 'failed'),
      waitForStatus(tasks.running?.id as string, 'running'),
    ]);
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('the signed-out page', async () => {
    found = [];
    await go('/');
    await page.getByRole('heading', { name: /Open Taskdock from the app/ }).waitFor();
    await bothThemes('signed out');
    assert.deepEqual(found, [], 'axe-core: serious or critical violations');
  });

  test('every page of the app, light and dark', async () => {
    found = [];
    await page.goto(stack.runtime.uiUrl);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const detail = (key: string) => `/tasks/detail?id=${encodeURIComponent(tasks[key]?.id ?? '')}`;
    const pages: [string, string, () => Promise<unknown>][] = [
      ['/', 'dashboard', () => page.getByRole('heading', { name: 'Queues' }).waitFor()],
      ['/tasks', 'task list', () => page.locator('tr[data-task-id]').first().waitFor()],
      ['/tasks/new', 'new task', () => page.getByRole('button', { name: 'Submit task' }).waitFor()],
      ['/schedules', 'schedules', () => page.locator('section[data-schedule]').waitFor()],
      ['/services', 'services', () => page.locator('section[data-service]').first().waitFor()],
      ['/logs', 'logs', () => page.locator('.log-row').first().waitFor()],
      ['/settings', 'settings', () => page.getByText('No worker tokens').waitFor()],
      [detail('done'), 'completed task', () => page.getByText('hello').first().waitFor()],
      [detail('failed'), 'failed task', () => page.locator('.error-box').waitFor()],
      [detail('running'), 'running task', () => page.locator('h1 .badge').waitFor()],
    ];
    for (const [pathname, label, ready] of pages) {
      await go(pathname);
      await ready();
      await page.waitForTimeout(300);
      await bothThemes(label);
    }

    // Open states: the schedule form with its live check, the confirm dialog, the bulk bar.
    await go('/schedules');
    await page.getByRole('button', { name: 'New schedule' }).click();
    await page.locator('form .next-runs li').first().waitFor();
    await bothThemes('schedule form');
    await go(detail('running'));
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('dialog').waitFor();
    await bothThemes('cancel confirmation');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    await go('/tasks');
    await page.locator('tr[data-task-id] input[type="checkbox"]').first().check();
    await page.getByRole('toolbar', { name: 'Selected tasks' }).waitFor();
    await bothThemes('task list with a selection');
    assert.deepEqual(found, [], 'axe-core: serious or critical violations');
  });

  test('every control Tab reaches shows its focus', async () => {
    const unmarked: string[] = [];
    for (const pathname of [
      '/',
      '/tasks',
      '/tasks/new',
      '/schedules',
      '/services',
      '/logs',
      '/settings',
    ]) {
      await go(pathname);
      await page.locator('h1').first().waitFor();
      await page.waitForTimeout(300);
      const seen = new Set<string>();
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press('Tab');
        const focus = await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          if (!el || el === document.body) return null;
          const style = getComputedStyle(el);
          const ring =
            (style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0) ||
            style.boxShadow !== 'none';
          const name = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40)}"`;
          return { name, ring };
        });
        if (!focus || seen.has(focus.name)) break;
        seen.add(focus.name);
        if (!focus.ring) unmarked.push(`${pathname}: ${focus.name}`);
      }
      assert.ok(seen.size > 3, `${pathname}: Tab reached only ${seen.size} controls`);
    }
    assert.deepEqual(unmarked, [], 'controls without a visible focus ring');
  });
});
