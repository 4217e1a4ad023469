// The Settings page against `npm run serve`: worker tokens are created (shown once, copied),
// listed and revoked (confirmed) in the UI, and turning remote workers on saves the setting and
// has the supervisor restart the backend bound beyond loopback.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RemoteServingStatus, WorkerTokenList } from '@taskdock/shared/contract';
import type { Page } from 'playwright-core';
import type { TestBrowser } from './browser.ts';
import { screenshots, seriousViolations } from './page-tools.ts';
import { closeUi, openSignedInUi } from './signed-in-ui.ts';
import type { ServeStack } from './stack.ts';

describe('Settings page', { timeout: 240_000 }, () => {
  let stack: ServeStack;
  let browser: TestBrowser;
  let page: Page;
  const errors: string[] = [];

  const tokens = async () =>
    (await stack.api<WorkerTokenList>('GET', '/api/worker-tokens')).body.items;
  /** A lease call with `token`: what a remote worker holding it would get. */
  const leaseWith = async (token: string) =>
    (
      await fetch(new URL('/api/leases', stack.runtime.apiUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ workerId: 'e2e', workflows: ['render*'] }),
      })
    ).status;

  before(async () => {
    ({ stack, browser, page } = await openSignedInUi(errors));
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write']);
  });

  after(() => closeUi({ stack, browser }));

  test('remote workers are off: loopback only, with the plaintext opt-in offered', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    const card = page.locator('#remote-serving');
    await card.locator('.badge', { hasText: 'Off' }).waitFor();
    await card.getByText('The API answers on this machine only (loopback).').waitFor();
    await card.getByLabel(/Serve without TLS/).waitFor();
    await page.getByText('No worker tokens').waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'axe finds no serious violations');
  });

  test('create a token: shown once with a copy button, then listed without it', async () => {
    await page.getByLabel('Name').fill('render-box');
    await page.getByLabel('Workflows').fill('render*');
    await page.getByRole('button', { name: 'Create token' }).click();
    const shown = page.getByTestId('new-worker-token');
    await shown.waitFor();
    const token = (await shown.innerText()).trim();
    assert.ok(token.length >= 32, `a real token: ${token}`);

    await page.getByRole('button', { name: 'Copy token' }).click();
    await page.getByText('The token copied to the clipboard').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);

    const row = page.getByRole('row', { name: /render-box/ });
    await row.getByText('render*').waitFor();
    const listed = await tokens();
    assert.deepEqual(
      listed.map((t) => [t.name, t.workflows]),
      [['render-box', ['render*']]],
    );
    assert.ok(!JSON.stringify(listed).includes(token), 'the list never holds the token');
    assert.equal(await leaseWith(token), 200, 'the token is live');
    await screenshots(page, 'settings-token-created');
    assert.deepEqual(await seriousViolations(page), [], 'axe finds no serious violations');

    // Revoke asks first; keeping it keeps it.
    await row.getByRole('button', { name: 'Revoke render-box' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke worker token render-box?' });
    await dialog.waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'axe: the confirm dialog');
    await dialog.getByRole('button', { name: 'Keep token' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await tokens()).length, 1, 'still there');

    await row.getByRole('button', { name: 'Revoke render-box' }).click();
    await dialog.getByRole('button', { name: 'Revoke token' }).click();
    await page.getByText('Worker token render-box revoked').waitFor();
    await row.waitFor({ state: 'detached' });
    await shown.waitFor({ state: 'detached' });
    assert.deepEqual(await tokens(), []);
    assert.equal(await leaseWith(token), 401, 'revoked at once');
  });

  test('turning remote workers on restarts the backend bound beyond loopback', async () => {
    const card = page.locator('#remote-serving');
    await card.getByLabel(/Let workers on other machines reach this API/).check();
    // Without TLS files, the opt-in is what stands between the user and a plaintext bind.
    await card.getByRole('button', { name: 'Save and restart' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Save and restart' }).click();
    await card.locator('#remote-plaintext-error', { hasText: /without TLS/ }).waitFor();

    await card.getByLabel(/Serve without TLS/).check();
    await card.getByRole('button', { name: 'Save and restart' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Save and restart' }).click();
    await card.locator('.badge', { hasText: 'On' }).waitFor({ timeout: 60_000 });
    await card.getByText('Workers on other machines use').waitFor();
    await card.getByText('No TLS').waitFor();

    const status = (await stack.api<RemoteServingStatus>('GET', '/api/remote-serving')).body;
    assert.equal(status.active, true);
    assert.equal(status.source, 'setting');
    assert.equal(status.plaintext, true);
    assert.match(status.url ?? '', /^http:\/\/[^/]+:\d+$/);
    assert.equal(
      new URL(status.url as string).port,
      new URL(stack.runtime.apiUrl).port,
      'the same port as before',
    );
    const saved = JSON.parse(
      await readFile(path.join(stack.dataDir, 'remote-workers.json'), 'utf8'),
    );
    assert.deepEqual(saved, { enabled: true, allowPlaintext: true });
    await screenshots(page, 'settings-remote-on');
    assert.deepEqual(await seriousViolations(page), [], 'axe finds no serious violations');
  });

  test('no script errors', () => {
    assert.deepEqual(errors, []);
  });
});
