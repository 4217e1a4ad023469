import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { uiBuildFiles, writeUiBuildStatus } from '@taskdock/shared/node/ui-build-status';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { startStack, TEST_TOKEN, type TestStack } from './helpers/stack.ts';

// A fresh clone has no frontend/out: the sign-in link must show how to build the UI (or that
// the first start is building it, or why that failed), stay usable, and sign in once the build
// appears, with no restart.

const HOST = '127.0.0.1:4321';

function signInLink(): string {
  const nonce = randomBytes(16).toString('base64url');
  const signature = createHmac('sha256', TEST_TOKEN)
    .update(`taskdock-login:${nonce}`)
    .digest('base64url');
  return `/?login=${nonce}.${signature}`;
}

describe('the UI before and after it is built', () => {
  let stack: TestStack;
  let dir: string;
  let app: FastifyInstance;
  before(async () => {
    stack = await startStack({ worker: false });
    dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-ui-missing-'));
    // The export's folder does not exist yet, as frontend/out on a fresh clone.
    app = await buildApp({ ...stack.app.deps, uiDir: path.join(dir, 'out') });
  });
  after(async () => {
    await app.close();
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (url: string, cookie?: string) =>
    app.inject({ method: 'GET', url, headers: { host: HOST, ...(cookie ? { cookie } : {}) } });

  const uiDir = () => path.join(dir, 'out');

  test('while the first start builds the UI, every page says so and reloads itself', async () => {
    // A live process stands for `next build`: the page trusts a status only while its pid runs.
    const builder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      assert.ok(builder.pid);
      const log = uiBuildFiles(uiDir()).log;
      await writeUiBuildStatus(uiDir(), { state: 'building', pid: builder.pid, log });
      const link = signInLink();
      const page = await get(link);
      assert.equal(page.statusCode, 503);
      assert.match(page.body, /<h1[^>]*>The Taskdock UI is being built<\/h1>/);
      assert.match(page.body, /this page reloads by itself/i);
      assert.match(page.body, /<meta http-equiv="refresh" content="5">/);
      assert.ok(page.body.includes(log), 'it says where the output is');
      assert.equal(page.headers['set-cookie'], undefined, 'the link is not used up');
      assert.match((await get('/tasks/new')).body, /being built/);

      builder.kill('SIGKILL');
      await once(builder, 'exit');
      const gone = await get('/');
      assert.match(gone.body, /UI is not built/, 'a build that died is not "being built"');
      assert.doesNotMatch(gone.body, /http-equiv="refresh"/);
    } finally {
      builder.kill('SIGKILL');
      await rm(uiBuildFiles(uiDir()).status, { force: true });
    }
  });

  test('a failed first-start build: the page says so, why, and what to run', async () => {
    const log = uiBuildFiles(uiDir()).log;
    await writeUiBuildStatus(uiDir(), {
      state: 'failed',
      message: 'next build exited with code 1: Type error: <b>x</b>',
      log,
    });
    try {
      const page = await get(signInLink());
      assert.equal(page.statusCode, 503);
      assert.match(page.body, /The Taskdock UI build failed/);
      assert.ok(page.body.includes('Type error: &lt;b&gt;x&lt;/b&gt;'), 'the reason, escaped');
      assert.match(page.body, /npm run build:frontend/);
      assert.ok(page.body.includes(log));
      assert.doesNotMatch(page.body, /http-equiv="refresh"/, 'no reload loop on a failure');
    } finally {
      await rm(uiBuildFiles(uiDir()).status, { force: true });
    }
  });

  test('the sign-in link shows "UI not built" with the command, and is not used up', async () => {
    const link = signInLink();
    const first = await get(link);
    assert.equal(first.statusCode, 503);
    assert.match(String(first.headers['content-type']), /text\/html/);
    assert.match(first.body, /UI is not built/);
    assert.match(first.body, /npm run build:frontend/);
    assert.match(first.body, /runtime\.json/, 'it says where a fresh link is');
    assert.equal(first.headers['set-cookie'], undefined);
    assert.doesNotMatch(first.body, /"error"/, 'no bare JSON');

    const other = await get('/tasks/new');
    assert.equal(other.statusCode, 503, 'every page says so, not only /');

    await mkdir(path.join(dir, 'out'));
    await writeFile(path.join(dir, 'out', 'index.html'), '<!doctype html><title>dashboard</title>');

    const again = await get(link);
    assert.equal(again.statusCode, 303, 'the same link signs in once the build is there');
    assert.equal(again.headers.location, '/');
    const cookie = [again.headers['set-cookie'] ?? []]
      .flat()
      .find((c) => c.startsWith('taskdock_session_'))
      ?.split(';')[0];
    assert.ok(cookie, 'a session cookie was set');
    const home = await get('/', cookie);
    assert.equal(home.statusCode, 200);
    assert.match(home.body, /dashboard/);
    assert.equal((await get('/api/session', cookie)).statusCode, 200);

    const used = await get(link);
    assert.equal(used.headers.location, '/?signin=invalid', 'and it works once, as always');
  });
});
