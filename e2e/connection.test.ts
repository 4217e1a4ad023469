// The backend goes away under an open page: a banner says since when and that it retries, the
// data is marked stale, and both clear once the supervisor has the backend back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isAlive } from '@taskdock/shared/node/processes';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from './browser.ts';
import { screenshots } from './page-tools.ts';
import { type ServeStack, startServe } from './stack.ts';

describe('Connection state', { timeout: 180_000 }, () => {
  let stack: ServeStack;
  let browser: TestBrowser;
  let page: Page;

  before(async () => {
    stack = await startServe();
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(stack.runtime.uiUrl);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('backend stopped: a banner within 5 s over data marked stale; gone once it is back', async (t) => {
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.locator('.stat-value').first().waitFor();
    const banner = page.getByTestId('connection-banner');
    assert.equal(await banner.count(), 0, 'no banner while connected');

    const backend = stack.runtime.pids.backend as number;
    const stoppedAt = Date.now();
    process.kill(backend, 'SIGKILL');
    await banner.waitFor({ timeout: 5000 });
    const shownMs = Date.now() - stoppedAt;
    t.diagnostic(`banner ${shownMs} ms after the backend was killed`);
    assert.ok(shownMs < 5000, `banner after ${shownMs} ms`);
    const text = await banner.innerText();
    assert.match(text, /not answering since \d\d:\d\d:\d\d/);
    assert.match(text, /Retry(ing| now)/);
    assert.equal(await page.locator('main').getAttribute('data-stale'), 'true');
    await page
      .locator('.stat-value')
      .first()
      .evaluate((el) => getComputedStyle(el, '::after').content)
      .then((content) => assert.match(content, /stale/, 'numbers say they are stale'));
    await screenshots(page, 'connection-lost');

    // The supervisor restarts the backend; the page reconnects by itself and is fresh again.
    await banner.waitFor({ state: 'detached', timeout: 60_000 });
    assert.equal(isAlive(backend), false);
    assert.equal(await page.locator('main').getAttribute('data-stale'), null);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    t.diagnostic(`back and fresh ${Date.now() - stoppedAt} ms after the kill`);
  });
});
