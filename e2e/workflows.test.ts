// The Workflows page against a real stack: a file dropped into the workflows folder shows up
// (source, params, workers), its "New task" opens the generated form, and the form submits.
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Task } from '@taskdock/shared/contract';
import type { Page } from 'playwright-core';
import type { TestBrowser } from './browser.ts';
import { screenshots, seriousViolations } from './page-tools.ts';
import { closeUi, openSignedInUi } from './signed-in-ui.ts';
import type { ServeStack } from './stack.ts';

describe('Workflows page', { timeout: 240_000 }, () => {
  let stack: ServeStack;
  let browser: TestBrowser;
  let page: Page;
  const errors: string[] = [];

  const card = (name: string) => page.locator(`section[data-workflow="${name}"]`);
  /** Into `<dataDir>/workflows`, the default folder, whole (written aside, then renamed). */
  const put = async (name: string, content: string) => {
    const folder = path.join(stack.dataDir, 'workflows');
    await writeFile(path.join(folder, `.${name}.tmp`), content);
    await rename(path.join(folder, `.${name}.tmp`), path.join(folder, name));
  };

  before(async () => {
    ({ stack, browser, page } = await openSignedInUi(errors));
  });

  after(() => closeUi({ stack, browser }));

  test('with no files, the page explains how to add a workflow, with an example', async () => {
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor();
    await page.getByText('No workflows of your own yet').waitFor();
    await page.getByText('"resize-image"').waitFor();
    await card('shell').getByText('Built in').waitFor();
  });

  test('a file dropped into the folder is listed, and its form submits a task', async () => {
    const file = path.join(stack.dataDir, 'workflows', 'say.json');
    await put(
      'say.json',
      JSON.stringify({
        name: 'say',
        description: 'Says a word back as JSON',
        params: {
          type: 'object',
          properties: { word: { type: 'string', description: 'what to say' } },
          required: ['word'],
        },
        command: process.execPath,
        args: ['-e', 'console.log(JSON.stringify({ said: process.argv[1] }))', '{{params.word}}'],
        result: 'json',
      }),
    );
    const say = card('say');
    await say.waitFor({ timeout: 10_000 });
    await say.getByText(file).waitFor();
    await say.getByText('Says a word back as JSON').waitFor();
    await say.getByRole('table', { name: 'Params of say' }).getByText('what to say').waitFor();
    await say.getByText('1 worker').waitFor({ timeout: 10_000 });
    await page.getByText('No workflows of your own yet').waitFor({ state: 'detached' });
    await screenshots(page, 'workflows');
    assert.deepEqual(await seriousViolations(page), [], 'axe finds no serious violations');

    await say.getByRole('link', { name: 'New task for say' }).click();
    await page.waitForURL(/\/tasks\/new\?workflow=say/);
    // The label (the workflow picker's "Says a word…" would match a bare 'word').
    await page.getByRole('textbox', { name: /^word/ }).fill('hello; $(whoami) "quoted"');
    await page.getByRole('button', { name: 'Submit task' }).click();
    await page.waitForURL(/\/tasks\/detail\?id=say/);
    const id = new URL(page.url()).searchParams.get('id') as string;
    const deadline = Date.now() + 20_000;
    let task: Task;
    for (;;) {
      task = (await stack.api<Task>('GET', `/api/tasks/${encodeURIComponent(id)}`)).body;
      if (task.status === 'completed' || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(task.status, 'completed', JSON.stringify(task));
    assert.deepEqual(task.result, { said: 'hello; $(whoami) "quoted"' });
  });

  test('a broken file is shown with its error and no New task button', async () => {
    await page.getByRole('link', { name: 'Workflows' }).click();
    await put('broken.json', '{ "name": "broken", "command": 42 }');
    const broken = card('broken');
    await broken.getByText('Did not load', { exact: true }).waitFor({ timeout: 10_000 });
    await broken.getByText(/broken\.json:1: \/command must be string/).waitFor();
    assert.equal(await broken.getByRole('link', { name: /New task/ }).count(), 0);
    assert.deepEqual(errors, [], 'no page errors');
  });
});
