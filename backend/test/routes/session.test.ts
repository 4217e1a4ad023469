import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { createSessionManager } from '../../src/plugins/session.ts';
import { createRedisSessionStore } from '../../src/plugins/session-store.ts';
import { startStack, TEST_TOKEN, type TestStack } from '../helpers/stack.ts';

const HOST = '127.0.0.1:4321';

/** A sign-in link as the supervisor builds it (packages/shared/src/node/sign-in.ts, format in the contract). */
function signInLink(token = TEST_TOKEN, nonce = randomBytes(16).toString('base64url')): string {
  const signature = createHmac('sha256', token)
    .update(`taskdock-login:${nonce}`)
    .digest('base64url');
  return `/?login=${nonce}.${signature}`;
}

/** `name=value` of the session cookie a response sets, and the whole header. */
function sessionCookie(res: LightMyRequestResponse): { header: string; raw: string } {
  const raw = [res.headers['set-cookie'] ?? []]
    .flat()
    .find((c) => c.startsWith('taskdock_session_'));
  assert.ok(raw, `no session cookie in ${JSON.stringify(res.headers)}`);
  return { header: raw.split(';')[0] as string, raw };
}

describe('browser sessions', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: false });
  });
  after(() => stack.close());

  const open = (url: string, cookie?: string) =>
    stack.request({
      method: 'GET',
      url,
      token: null,
      headers: { host: HOST, ...(cookie ? { cookie } : {}) },
    });
  const withCookie = (cookie: string, options: Parameters<TestStack['request']>[0]) =>
    stack.request({ ...options, token: null, headers: { host: HOST, cookie, ...options.headers } });
  const signIn = async () => sessionCookie(await open(signInLink())).header;

  test('a sign-in link sets an HttpOnly SameSite=Strict cookie once, then redirects', async () => {
    const link = signInLink();
    const first = await open(link);
    assert.equal(first.statusCode, 303);
    assert.equal(first.headers.location, '/');
    assert.equal(first.headers['cache-control'], 'no-store');
    assert.equal(first.headers['referrer-policy'], 'no-referrer');
    const { raw, header } = sessionCookie(first);
    assert.match(raw, /HttpOnly/);
    assert.match(raw, /SameSite=Strict/);
    assert.match(raw, /Path=\//);
    assert.match(raw, /Max-Age=2592000/);

    const session = await withCookie(header, { method: 'GET', url: '/api/session' });
    assert.equal(session.statusCode, 200);
    assert.deepEqual(session.json(), { auth: 'cookie' });
    assert.equal((await withCookie(header, { method: 'GET', url: '/api/tasks' })).statusCode, 200);
    const bearer = await stack.request({ method: 'GET', url: '/api/session' });
    assert.deepEqual(bearer.json(), { auth: 'bearer' });

    // Used: a fresh browser is told so; the signed-in one just goes on to the UI.
    const again = await open(link);
    assert.equal(again.statusCode, 303);
    assert.equal(again.headers.location, '/?signin=invalid');
    assert.equal(again.headers['set-cookie'], undefined);
    assert.equal((await open(link, header)).headers.location, '/');
  });

  test('a link to a page keeps the page and its other params', async () => {
    const res = await open(`/tasks/detail${signInLink().replace('/?', '?id=shell%3A1&')}`);
    assert.equal(res.headers.location, '/tasks/detail?id=shell%3A1');
    sessionCookie(res);
  });

  test('forged, foreign or malformed links: no session, and the UI is told why', async () => {
    const nonce = randomBytes(16).toString('base64url');
    const forged = [
      signInLink('another-token-0123456789'),
      `/?login=${nonce}.${'A'.repeat(43)}`,
      `/?login=${nonce}`,
      '/?login=',
      '/?login=..',
      `/?login=${encodeURIComponent('../../x.y')}`,
      `${signInLink()}.extra`,
    ];
    for (const url of forged) {
      const res = await open(url);
      assert.equal(res.statusCode, 303, url);
      assert.equal(res.headers.location, '/?signin=invalid', url);
      assert.equal(res.headers['set-cookie'], undefined, url);
    }
    const evil = await stack.request({
      method: 'GET',
      url: signInLink(),
      token: null,
      headers: { host: 'evil.example' },
    });
    assert.equal(evil.statusCode, 403);
    assert.equal(evil.headers['set-cookie'], undefined);
  });

  test('no session or a stale cookie: 401 that says what to do', async () => {
    const none = await stack.request({ method: 'GET', url: '/api/tasks', token: null });
    assert.equal(none.statusCode, 401);
    assert.match(none.json().error.message, /npm run serve/);
    const stale = await withCookie(`${stack.app.sessions.cookieName}=${'x'.repeat(43)}`, {
      method: 'GET',
      url: '/api/session',
    });
    assert.equal(stale.statusCode, 401);
    assert.match(stale.json().error.message, /Session expired/);
  });

  test('two tabs racing with one link: one session', async () => {
    const link = signInLink();
    const results = await Promise.all([open(link), open(link), open(link)]);
    assert.equal(results.filter((r) => r.headers.location === '/').length, 1);
  });

  test('a cookie is honoured only from our own origin', async () => {
    const header = await signIn();
    const cancel = { method: 'POST' as const, url: '/api/tasks/sleep:404/cancel' };

    const noOrigin = await withCookie(header, cancel);
    assert.equal(noOrigin.statusCode, 403);
    assert.equal(noOrigin.json().error.code, 'CROSS_ORIGIN');
    const otherPort = await withCookie(header, {
      ...cancel,
      headers: { origin: 'http://127.0.0.1:9999', 'sec-fetch-site': 'same-site' },
    });
    assert.equal(otherPort.statusCode, 403);
    const sameSiteGet = await withCookie(header, {
      method: 'GET',
      url: '/api/tasks',
      headers: { 'sec-fetch-site': 'same-site' },
    });
    assert.equal(sameSiteGet.statusCode, 403);

    const ours = await withCookie(header, {
      ...cancel,
      headers: { origin: `http://${HOST}`, 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(ours.statusCode, 404, 'past auth: the task does not exist');
  });

  test('sign-out ends the session', async () => {
    const header = await signIn();
    const out = await withCookie(header, {
      method: 'POST',
      url: '/api/session/sign-out',
      headers: { origin: `http://${HOST}` },
    });
    assert.equal(out.statusCode, 204);
    assert.match(String(out.headers['set-cookie']), /Expires=Thu, 01 Jan 1970/);
    assert.equal(
      (await withCookie(header, { method: 'GET', url: '/api/session' })).statusCode,
      401,
    );
  });

  test('sessions and used links survive a backend restart; the cookie is per instance', async () => {
    const header = await signIn();
    const link = signInLink();
    assert.equal((await open(link)).headers.location, '/');
    const restarted = await buildApp(stack.app.deps);
    try {
      const session = await restarted.inject({
        method: 'GET',
        url: '/api/session',
        headers: { host: HOST, cookie: header },
      });
      assert.equal(session.statusCode, 200);
      const reused = await restarted.inject({ method: 'GET', url: link, headers: { host: HOST } });
      assert.equal(reused.headers.location, '/?signin=invalid');
    } finally {
      await restarted.close();
    }
    const other = createSessionManager({
      store: createRedisSessionStore(stack.client),
      token: `${TEST_TOKEN}-other`,
    });
    assert.notEqual(other.cookieName, stack.app.sessions.cookieName);
  });
});

describe('static UI', () => {
  let stack: TestStack;
  let dir: string;
  let app: FastifyInstance;
  before(async () => {
    stack = await startStack({ worker: false });
    dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-ui-'));
    await mkdir(path.join(dir, '_next', 'static', 'chunks'), { recursive: true });
    await mkdir(path.join(dir, 'tasks'), { recursive: true });
    await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>dashboard</title>');
    await writeFile(path.join(dir, 'tasks.html'), '<!doctype html><title>tasks</title>');
    await writeFile(path.join(dir, 'tasks', 'new.html'), '<!doctype html><title>new</title>');
    await writeFile(path.join(dir, '404.html'), '<!doctype html><title>lost</title>');
    await writeFile(path.join(dir, '_next', 'static', 'chunks', 'app.js'), 'console.log(1)');
    app = await buildApp({ ...stack.app.deps, uiDir: dir });
  });
  after(async () => {
    await app.close();
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (url: string) => app.inject({ method: 'GET', url, headers: { host: HOST } });

  test('pages need no session (the app asks /api/session), clean URLs, safe headers', async () => {
    const home = await get('/');
    assert.equal(home.statusCode, 200);
    assert.match(home.body, /dashboard/);
    assert.match(String(home.headers['content-type']), /text\/html/);
    assert.equal(home.headers['cache-control'], 'no-cache');
    assert.match(String(home.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(home.headers['x-frame-options'], 'DENY');

    assert.match((await get('/tasks')).body, /tasks/);
    assert.match((await get('/tasks/new?workflow=shell')).body, /new/);
    assert.match((await get('/tasks/new/')).body, /new/);

    const asset = await get('/_next/static/chunks/app.js');
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  });

  test('unknown pages get the UI 404, unknown API paths the JSON one, no way out of the dir', async () => {
    const page = await get('/nowhere');
    assert.equal(page.statusCode, 404);
    assert.match(page.body, /lost/);

    const api = await app.inject({
      method: 'GET',
      url: '/api/nowhere',
      headers: { host: HOST, authorization: `Bearer ${TEST_TOKEN}` },
    });
    assert.equal(api.statusCode, 404);
    assert.equal(api.json().error.code, 'NOT_FOUND');
    assert.equal((await get('/api/nowhere')).statusCode, 401);

    for (const url of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/tasks/%2e%2e/%2e%2e/x',
      '/%00',
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.doesNotMatch(res.body, /"name"/, url);
    }
  });

  test('a missing build says how to make one', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'taskdock-ui-empty-'));
    const bare = await buildApp({ ...stack.app.deps, uiDir: empty });
    try {
      const res = await bare.inject({ method: 'GET', url: '/', headers: { host: HOST } });
      assert.equal(res.statusCode, 503);
      assert.match(res.body, /npm run build:frontend/);
    } finally {
      await bare.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
