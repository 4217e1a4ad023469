import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from './browser.ts';
import { type ServeStack, startServe } from './stack.ts';

export interface SignedInUi {
  readonly stack: ServeStack;
  readonly browser: TestBrowser;
  readonly page: Page;
}

/**
 * `npm run serve` in a fresh data dir and Chromium signed in through its link, on the
 * dashboard; every uncaught page error is pushed to `errors`.
 */
export async function openSignedInUi(errors: string[]): Promise<SignedInUi> {
  const stack = await startServe();
  const browser = await launchBrowser();
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(stack.runtime.uiUrl);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  return { stack, browser, page };
}

/** Closes what `openSignedInUi` opened (either may be missing when it failed half way). */
export async function closeUi(ui: Partial<SignedInUi>): Promise<void> {
  await ui.browser?.close();
  await ui.stack?.stop();
}
