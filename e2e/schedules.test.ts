// The schedules page against a real stack: create with live pattern checks, see the next runs
// and the last run, edit, pause, resume and delete (confirmed), and reach the tasks it made.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ScheduleList } from '@taskdock/shared/contract';
import type { Page } from 'playwright-core';
import type { TestBrowser } from './browser.ts';
import { screenshots } from './page-tools.ts';
import { closeUi, openSignedInUi } from './signed-in-ui.ts';
import type { ServeStack } from './stack.ts';

describe('Schedules page', { timeout: 240_000 }, () => {
  let stack: ServeStack;
  let browser: TestBrowser;
  let page: Page;
  const errors: string[] = [];

  const schedules = async () => (await stack.api<ScheduleList>('GET', '/api/schedules')).body.items;
  const card = (name: string) => page.locator(`section[data-schedule="${name}"]`);

  before(async () => {
    ({ stack, browser, page } = await openSignedInUi(errors));
  });

  after(() => closeUi({ stack, browser }));

  test('create a schedule: the pattern is checked as typed and its next runs shown', async () => {
    await page.getByRole('link', { name: /Schedules/ }).click();
    await page.getByRole('heading', { name: 'Schedules', level: 1 }).waitFor();
    await page.getByText('No schedules yet').waitFor();
    await page.getByRole('button', { name: 'New schedule' }).first().click();

    await page.getByLabel('Name').fill('heartbeat');
    await page.getByLabel('Workflow').selectOption('sleep');
    const pattern = page.getByLabel('Cron pattern');
    const tz = page.getByLabel('Time zone');
    // Live validation, each problem at its own field, in plain words.
    await pattern.fill('61 * * * *');
    await page
      .locator('#schedule-pattern-error', { hasText: 'not a valid cron pattern' })
      .waitFor();
    await pattern.fill('*/2 * * * * *');
    await tz.fill('Mars/Olympus');
    const tzError = page.locator('#schedule-tz-error');
    await tzError.filter({ hasText: '"Mars/Olympus" is not a known time zone' }).waitFor();
    assert.equal(await page.locator('#schedule-pattern-error').count(), 0, 'the pattern is fine');
    assert.doesNotMatch(await page.locator('main').innerText(), /CronDate|unhandled timestamp/);
    await tz.fill('UTC');
    await tzError.waitFor({ state: 'detached' });
    await page.locator('.cron-words', { hasText: 'Every 2 seconds' }).waitFor();
    const preview = page.locator('form .next-runs li');
    await preview.nth(4).waitFor();
    assert.equal(await preview.count(), 5);

    await page.getByLabel('ms').fill('50');
    await screenshots(page, 'schedule-form');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByText('Schedule heartbeat created').waitFor();

    const created = card('heartbeat');
    await created.locator('.badge', { hasText: 'active' }).waitFor();
    await created.getByText('Every 2 seconds').waitFor();
    assert.equal(
      await created.getByRole('list', { name: 'Next runs of heartbeat' }).locator('li').count(),
      5,
    );
    const [saved] = await schedules();
    assert.equal(saved?.id, 'heartbeat');
    assert.equal(saved?.tz, 'UTC');
    assert.deepEqual(saved?.params, { ms: 50, steps: 1 });

    // It runs: the card shows its last run's outcome without a reload.
    await created
      .locator('.last-run .badge', { hasText: 'completed' })
      .waitFor({ timeout: 15_000 });
    await screenshots(page, 'schedules');
  });

  test('the tasks a schedule made are one click away', async () => {
    await card('heartbeat')
      .getByRole('link', { name: /tasks? it made/ })
      .click();
    await page.waitForURL(/\/tasks\?q=schedule%3Aheartbeat/);
    await page.locator('tr[data-task-id^="sleep:repeat:heartbeat:"]').first().waitFor();
    const ids = await page
      .locator('tr[data-task-id]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task-id')));
    assert.ok(
      ids.length > 0 && ids.every((id) => id?.startsWith('sleep:repeat:heartbeat:')),
      `${ids}`,
    );
    // Named after the schedule and its run, not a cut `repeat:…` id.
    const link = page.locator('tr[data-task-id] a.task-link').first();
    assert.match(await link.innerText(), /^heartbeat · run of \w{3} \d+, \d\d:\d\d:\d\d$/);
    await link.click();
    await page.locator('h1', { hasText: /heartbeat · run of/ }).waitFor();
    await page.goto(new URL('/schedules', stack.runtime.apiUrl).toString());
    await card('heartbeat').waitFor();
  });

  test('edit a schedule: new pattern and zone, next runs follow', async () => {
    await card('heartbeat').getByRole('button', { name: 'Edit heartbeat' }).click();
    await page.getByRole('heading', { name: /Edit schedule heartbeat/ }).waitFor();
    await page.getByLabel('Cron pattern').fill('0 9 * * 1-5');
    await page.getByLabel('Time zone').fill('Europe/Paris');
    await page.locator('.cron-words', { hasText: 'At 09:00, Monday through Friday' }).waitFor();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Schedule heartbeat saved').waitFor();
    const edited = card('heartbeat');
    await edited.getByText('At 09:00, Monday through Friday').waitFor();
    const runs = await edited.locator('.next-runs li').allInnerTexts();
    assert.equal(runs.length, 5);
    for (const run of runs) {
      assert.match(run, /^(Mon|Tue|Wed|Thu|Fri).*09:00:00/, `a weekday at 09:00 in Paris: ${run}`);
    }
    const [saved] = await schedules();
    assert.equal(saved?.pattern, '0 9 * * 1-5');
    assert.equal(saved?.tz, 'Europe/Paris');
    assert.deepEqual(saved?.params, { ms: 50, steps: 1 }, 'params kept');
  });

  test('pause and resume a schedule', async () => {
    const c = card('heartbeat');
    await c.getByRole('button', { name: 'Pause heartbeat' }).click();
    await c.locator('.badge', { hasText: 'paused' }).waitFor();
    await c.getByText('None while paused.').waitFor();
    assert.equal((await schedules())[0]?.paused, true);
    await page.reload();
    await card('heartbeat').locator('.badge', { hasText: 'paused' }).waitFor();

    await card('heartbeat').getByRole('button', { name: 'Resume heartbeat' }).click();
    await c.locator('.badge', { hasText: 'active' }).waitFor();
    assert.equal(await c.locator('.next-runs li').count(), 5);
    assert.equal((await schedules())[0]?.paused, false);
  });

  test('delete asks first; keeping it keeps it', async () => {
    const c = card('heartbeat');
    await c.getByRole('button', { name: 'Delete heartbeat' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete schedule heartbeat?' });
    await dialog.waitFor();
    await screenshots(page, 'schedule-delete-confirm');
    await dialog.getByRole('button', { name: 'Keep schedule' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await schedules()).length, 1, 'still there');

    await c.getByRole('button', { name: 'Delete heartbeat' }).click();
    await dialog.getByRole('button', { name: 'Delete schedule' }).click();
    await page.getByText('Schedule heartbeat deleted').waitFor();
    await c.waitFor({ state: 'detached' });
    assert.deepEqual(await schedules(), []);
  });

  test('no script errors', () => {
    assert.deepEqual(errors, []);
  });
});
